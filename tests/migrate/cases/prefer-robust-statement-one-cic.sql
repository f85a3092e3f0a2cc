-- Alone in its file, CREATE INDEX CONCURRENTLY still is no all-or-nothing:
-- a failure leaves an INVALID index of that name, and the rerun stops on it.
CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);
