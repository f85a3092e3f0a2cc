SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);
CREATE TABLE invoices (id bigint, order_id bigint);
CREATE INDEX invoices_order_idx ON invoices (order_id);
