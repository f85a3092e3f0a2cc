SET lock_timeout = '2s';
SET statement_timeout = '30s';
DROP INDEX orders_user_idx;
