-- opsdeck-ignore-file prefer-txt
BEGIN;
SET LOCAL lock_timeout = '2s';
-- opsdeck-ignore drop-colum
ALTER TABLE users DROP COLUMN legacy_flag;
COMMIT;
-- a second directive, further down, is named at its own line
-- opsdeck-ignore-file drop-column, nonsense-rule
