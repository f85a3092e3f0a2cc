-- scanner errors: "123abc" ends at its statement's ';', so the file goes on;
-- an unterminated quote takes in the rest of the file, as in PostgreSQL
SET lock_timeout = '2s';
SET statement_timeout = '30s';
ALTER TABLE orders ADD COLUMN amount numeric DEFAULT 123abc;
DROP TABLE x;
UPDATE orders SET note = 'it''s;
DROP TABLE y;
