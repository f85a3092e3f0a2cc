SET lock_timeout = '2s';
SET statement_timeout = '30s';
-- opsdeck-ignore drop-column, drop-table
ALTER TABLE users DROP COLUMN legacy;
ALTER TABLE users DROP COLUMN legacy2;
