-- opsdeck-ignore-file create-index-concurrently
SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE INDEX a_idx ON a (x);
CREATE INDEX b_idx ON b (x);
