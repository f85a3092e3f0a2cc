SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE staging_rows (id bigint);
TRUNCATE staging_rows RESTRICT;
