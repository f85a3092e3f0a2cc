-- lint-options: policy=additive-only
SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE tags (id bigint, name text);
ALTER TABLE users ADD COLUMN nickname text;
CREATE INDEX CONCURRENTLY users_nickname_idx ON users (nickname);
COMMENT ON COLUMN users.nickname IS 'shown in the header';
GRANT SELECT ON tags TO reporting;
ANALYZE users;
