-- statements without a keyword ("SELEC 1;", "FOO;"): each is a parse error of
-- its own, and the statement after it is still linted
SET lock_timeout = '2s';
SET statement_timeout = '30s';
SELECT 1;
SELEC 1;
DROP TABLE x;
FOO;
DROP TABLE y;
CREATE INDEX a ON orders (created_at);
SELEC 1; CREATE INDEX b ON orders (user_id);
FOO (1; 2); ALTER TABLE orders DROP COLUMN legacy;
BAR
