SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE t (a text NOT NULL);
ALTER TABLE t ALTER COLUMN a DROP NOT NULL;
