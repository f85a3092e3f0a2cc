SET lock_timeout = '2s';
SET statement_timeout = '30s';
ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();
ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;
