-- The integrity log's chain (CONTRACT §11); schema.sql has it, with its comments,
-- for a new database; this adds it to an older one.
CREATE TABLE IF NOT EXISTS action_log_chain (
    hall_id    integer NOT NULL REFERENCES halls(id),
    seq        bigint NOT NULL CHECK (seq > 0),
    entry_id   bigint NOT NULL UNIQUE,
    prev_hash  text NOT NULL,
    hash       text NOT NULL,
    sealed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (hall_id, seq)
);
CREATE OR REPLACE TRIGGER action_log_chain_no_change
    BEFORE UPDATE OR DELETE ON action_log_chain
    FOR EACH ROW EXECUTE FUNCTION action_log_append_only();
CREATE OR REPLACE TRIGGER action_log_chain_no_truncate
    BEFORE TRUNCATE ON action_log_chain
    FOR EACH STATEMENT EXECUTE FUNCTION action_log_append_only();
