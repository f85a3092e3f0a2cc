SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE counters (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, hits bigint);
