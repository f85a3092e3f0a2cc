SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE this_table_name_is_much_longer_than_sixty_three_bytes_which_postgres_truncates (id bigint);
ALTER TABLE t ADD COLUMN "Quoted Column Name That Is Much Longer Than Sixty-Three Bytes In All" text;
