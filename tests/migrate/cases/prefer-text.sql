SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE tags (id bigint, name varchar(40));
