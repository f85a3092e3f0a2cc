-- lint-options: pg-version=10
SET lock_timeout = '2s';
SET statement_timeout = '30s';
ALTER TABLE users ADD COLUMN active boolean DEFAULT true;
