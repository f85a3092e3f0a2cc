-- One statement outside CONCURRENTLY applies whole or not at all: a rerun is safe.
ALTER TABLE accounts ADD COLUMN note text;
