SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE counters (id serial PRIMARY KEY, hits integer, small smallint);
