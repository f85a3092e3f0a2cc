SET lock_timeout = '2s';
SET statement_timeout = '30s';
CREATE TABLE counters (id serial PRIMARY KEY, hits integer, small smallint);
-- identity is suggested for keys only: a one-column PRIMARY KEY or a column named id,
-- not a composite key nor a foreign key
CREATE TABLE votes (post_id integer, voter_id int, weight smallint, PRIMARY KEY (post_id, voter_id));
CREATE TABLE tags (id integer, uses integer);
CREATE TABLE badges (code int, PRIMARY KEY (code));
CREATE TABLE profiles (user_id int PRIMARY KEY REFERENCES users);
