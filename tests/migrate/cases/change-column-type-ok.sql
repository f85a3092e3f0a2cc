SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE t (total bigint);
ALTER TABLE t ALTER COLUMN total TYPE numeric;
