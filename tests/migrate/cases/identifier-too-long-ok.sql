SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE this_table_name_is_exactly_63_bytes_long_so_postgres_keeps_it_o (id bigint);
ALTER TABLE t ADD COLUMN "Quoted Column Name That Is Exactly Sixty-Three Bytes Long, Fits" text;
