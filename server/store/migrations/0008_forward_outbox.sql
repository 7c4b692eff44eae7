-- Forwarding to the provincial 好差评 platform: the outbox (schema.sql has it
-- for a new database, with its comments; this adds it to an older one).
CREATE TABLE IF NOT EXISTS forward_outbox (
    id               bigserial PRIMARY KEY,
    hall_id          integer NOT NULL REFERENCES halls(id),
    kind             text NOT NULL CHECK (kind IN ('rating', 'follow_up')),
    ref_id           bigint NOT NULL,
    idempotency_key  text NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent')),
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    UNIQUE (hall_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS forward_outbox_due
    ON forward_outbox (hall_id, next_attempt_at, id) WHERE status <> 'sent';

-- Every rating, and every follow-up as it closes, goes into the outbox in the
-- transaction that made it, when the hall forwards (halls.forward_url): a
-- trigger, so no path that rates or closes can forget it.
CREATE OR REPLACE FUNCTION forward_enqueue() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM halls WHERE id = NEW.hall_id AND forward_url IS NOT NULL) THEN
        INSERT INTO forward_outbox (hall_id, kind, ref_id, idempotency_key)
        VALUES (NEW.hall_id, TG_ARGV[0], NEW.id,
                CASE TG_ARGV[0] WHEN 'rating' THEN NEW.id::text ELSE 'follow-up-' || NEW.id END)
        ON CONFLICT (hall_id, idempotency_key) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER ratings_forward
    AFTER INSERT ON ratings
    FOR EACH ROW EXECUTE FUNCTION forward_enqueue('rating');
CREATE OR REPLACE TRIGGER follow_ups_forward
    AFTER UPDATE OF status ON follow_ups
    FOR EACH ROW WHEN (NEW.status = 'closed' AND OLD.status IS DISTINCT FROM 'closed')
    EXECUTE FUNCTION forward_enqueue('follow_up');
