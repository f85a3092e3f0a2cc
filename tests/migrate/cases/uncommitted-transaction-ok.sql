SET lock_timeout = '2s';
SET statement_timeout = '30s';
START TRANSACTION;
ALTER TABLE users ADD COLUMN nickname text;
ROLLBACK;
