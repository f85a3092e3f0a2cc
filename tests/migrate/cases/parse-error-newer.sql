-- syntax newer than PostgreSQL 15 is named as such; other errors are plain syntax errors
SET lock_timeout = '2s';
SET statement_timeout = '30s';
SELECT count(*) FROM (SELECT 1);
ALTER TABLE local_image
    ADD CONSTRAINT local_image_user_not_null NOT NULL local_user_id;
CREATE TABLE t (id bigint, CONSTRAINT "t id set" NOT NULL id);
ALTER TABLE t ADD COLUMN x text NOT NOT NULL;
root:x:0:0:root:/root:/bin/bash;
-- opsdeck-ignore parse-error
SELECT * FROM (VALUES (1));
