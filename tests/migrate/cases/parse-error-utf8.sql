-- an error's position counts characters, and bytes that are not UTF-8 are one
SET lock_timeout = '2s';
SET statement_timeout = '30s';
SELECT 'été' FROM;
CREATE TABLE "caf�" (id bigint);
DROP TABLE y;
