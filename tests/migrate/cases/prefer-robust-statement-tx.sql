-- In one transaction a failure undoes everything: a rerun starts clean.
BEGIN;
SET LOCAL lock_timeout = '2s';
SET LOCAL statement_timeout = '30s';
CREATE TABLE invoices (id bigint PRIMARY KEY, email text);
ALTER TABLE accounts ADD COLUMN billing_email text;
COMMIT;
