-- a typo in the middle of a file: the rest is still linted
SET lock_timeout = '2s';
SET statement_timeout = '30s';
ALTER TABLE orders ADD COLUMN note text;
CREATE TABEL oops (id bigint);
ALTER TABLE orders DROP COLUMN legacy;
