SET lock_timeout = '2s';
SET statement_timeout = '30s';
DROP TABLE x; /* a comment /* nested */ never closed;
DROP TABLE y;
