SET lock_timeout = '2s';
SET statement_timeout = '30s';
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_idx;
