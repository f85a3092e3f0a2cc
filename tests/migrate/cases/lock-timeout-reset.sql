SET lock_timeout = '2s';
SET statement_timeout = '30s';
SET lock_timeout = 0;
ALTER TABLE users ADD COLUMN nickname text;
