SET lock_timeout = '2s';
SET statement_timeout = '30s';
ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
