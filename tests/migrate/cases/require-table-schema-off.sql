-- require-table-schema is opt-in: without --include nothing is raised.
BEGIN;
CREATE TABLE invoices (id bigint PRIMARY KEY);
COMMIT;
