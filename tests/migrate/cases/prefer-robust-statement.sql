-- Outside a transaction (CREATE INDEX CONCURRENTLY cannot run in one), a rerun
-- after a failure half way stops at the first statement that already happened.
SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE invoices (id bigint PRIMARY KEY, email text);
ALTER TABLE accounts ADD COLUMN billing_email text;
ALTER TABLE accounts DROP COLUMN legacy_email;
ALTER TABLE accounts ADD CONSTRAINT billing_email_len CHECK (length(billing_email) < 300) NOT VALID;
ALTER TABLE accounts DROP CONSTRAINT accounts_old_check;
CREATE INDEX CONCURRENTLY accounts_billing_email_idx ON accounts (billing_email);
DROP INDEX CONCURRENTLY accounts_email_idx;
CREATE VIEW billing AS SELECT id, billing_email FROM accounts;
ALTER TYPE invoice_state ADD VALUE 'disputed';
