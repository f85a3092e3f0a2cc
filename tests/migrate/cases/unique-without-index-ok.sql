SET lock_timeout = '2s';
SET statement_timeout = '0';
CREATE UNIQUE INDEX CONCURRENTLY users_email_idx ON users (email);
SET statement_timeout = '30s';
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;
