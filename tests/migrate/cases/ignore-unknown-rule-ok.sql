-- opsdeck-ignore-file prefer-text
BEGIN;
SET LOCAL lock_timeout = '2s';
-- opsdeck-ignore drop-column
ALTER TABLE users DROP COLUMN legacy_flag;
CREATE TABLE notes (body varchar(200));
COMMIT;
