SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE scratch (id bigint);
DROP TABLE scratch;
