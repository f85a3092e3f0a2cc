-- lint-options: include=require-table-schema
BEGIN;
SET LOCAL lock_timeout = '2s';
CREATE TABLE invoices (id bigint PRIMARY KEY);
ALTER TABLE accounts ADD COLUMN note text;
DROP TABLE IF EXISTS public.old_invoices, old_payments;
COMMIT;
