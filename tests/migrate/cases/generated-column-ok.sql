SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE t (a bigint, b bigint GENERATED ALWAYS AS (a * 2) STORED);
