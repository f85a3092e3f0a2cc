SET lock_timeout = '2s';
SET statement_timeout = '30s';
BEGIN;
ALTER TABLE users ADD COLUMN nickname text;
