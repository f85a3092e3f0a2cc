SELECT set_config('lock_timeout', '2s', false);
SET statement_timeout = 5000;
ALTER TABLE users ADD COLUMN nickname text;
