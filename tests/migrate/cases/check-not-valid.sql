SET lock_timeout = '2s';
SET statement_timeout = '30s';
ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0);
