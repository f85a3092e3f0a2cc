-- The same migration written to be run again: every statement is guarded.
SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE IF NOT EXISTS invoices (id bigint PRIMARY KEY, email text);
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS billing_email text;
ALTER TABLE accounts DROP COLUMN IF EXISTS legacy_email;
ALTER TABLE accounts DROP CONSTRAINT IF EXISTS billing_email_len;
ALTER TABLE accounts ADD CONSTRAINT billing_email_len CHECK (length(billing_email) < 300) NOT VALID;
ALTER TABLE accounts VALIDATE CONSTRAINT billing_email_len;
CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_billing_email_idx ON accounts (billing_email);
DROP INDEX CONCURRENTLY IF EXISTS accounts_email_idx;
CREATE OR REPLACE VIEW billing AS SELECT id, billing_email FROM accounts;
ALTER TYPE invoice_state ADD VALUE IF NOT EXISTS 'disputed';
CREATE TEMP TABLE scratch (id bigint);
