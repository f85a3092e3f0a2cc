-- opsdeck-ignore-file prefer-txt
BEGIN;
SET LOCAL lock_timeout = '2s';
-- opsdeck-ignore drop-colum
ALTER TABLE users DROP COLUMN legacy_flag;
COMMIT;
