SET lock_timeout = '2s';
CREATE INDEX orders_user_idx ON orders (user_id);
