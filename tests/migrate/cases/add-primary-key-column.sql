SET lock_timeout = '2s';
SET statement_timeout = '30s';
ALTER TABLE events ADD COLUMN id bigserial PRIMARY KEY;
