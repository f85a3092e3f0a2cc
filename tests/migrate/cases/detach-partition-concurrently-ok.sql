SET lock_timeout = '2s';
SET statement_timeout = '30s';
ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;
