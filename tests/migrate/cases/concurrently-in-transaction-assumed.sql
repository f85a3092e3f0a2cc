-- lint-options: assume-in-transaction
SET lock_timeout = '2s';
SET statement_timeout = '30s';
DROP INDEX CONCURRENTLY orders_user_idx;
