SET lock_timeout = '2s';
SET statement_timeout = '30s';
ALTER INDEX users_email_idx RENAME TO users_email_key;
