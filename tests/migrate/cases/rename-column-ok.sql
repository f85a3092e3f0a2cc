SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE t (a text);
ALTER TABLE t RENAME COLUMN a TO b;
