SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE events (id bigint, at timestamptz, at2 timestamp(3) with time zone);
