SET lock_timeout = '2s';
SET statement_timeout = '30s';
UPDATE users SET active = true WHERE id BETWEEN 1 AND 10000;
