SET lock_timeout = '2s';
SET statement_timeout = '30s';

  /* leading comment */ -- and another
    ALTER TABLE users
      DROP COLUMN legacy;
SELECT 'ü'; DELETE FROM t;
