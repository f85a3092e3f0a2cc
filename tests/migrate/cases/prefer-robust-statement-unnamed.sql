SET lock_timeout = '2s';
-- Unnamed: a rerun builds accounts_email_idx1 beside accounts_email_idx.
CREATE INDEX CONCURRENTLY ON accounts (email);
