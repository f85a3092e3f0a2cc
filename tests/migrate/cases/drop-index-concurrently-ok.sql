SET lock_timeout = '2s';
SET statement_timeout = '30s';
DROP INDEX CONCURRENTLY IF EXISTS orders_user_idx;
