-- lint-options: include=require-table-schema
BEGIN;
SET LOCAL lock_timeout = '2s';
CREATE TABLE billing.invoices (id bigint PRIMARY KEY);
ALTER TABLE public.accounts ADD COLUMN note text;
CREATE TEMP TABLE scratch (id bigint);
COMMIT;
