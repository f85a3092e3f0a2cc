SET lock_timeout = '2s';
SET statement_timeout = '30s';
INSERT INTO settings (k, v) VALUES ('a', 'b');
