SET lock_timeout = '2s';
SET statement_timeout = '30s';
ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);
