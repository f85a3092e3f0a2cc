-- lint-options: policy=additive-only
SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE tags (id bigint, name text);
ALTER TABLE users ADD COLUMN nickname text, DROP COLUMN legacy;
REVOKE SELECT ON users FROM reporting;
UPDATE users SET nickname = name WHERE id < 100;
