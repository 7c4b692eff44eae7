-- 叫号提醒 (issue 9, item 13): the hall file's [policy] alert_ahead, the contacts
-- and outbox of SMS / WeChat notifications, and the trigger that fills the outbox
-- when a ticket is called. schema.sql has all of it, with its comments, for a new
-- database; this adds it to an older one.
ALTER TABLE halls ADD COLUMN IF NOT EXISTS alert_ahead integer NOT NULL DEFAULT 3
    CHECK (alert_ahead >= 0);

CREATE TABLE IF NOT EXISTS notify_contacts (
    ticket_id   text PRIMARY KEY REFERENCES tickets(id),
    hall_id     integer NOT NULL REFERENCES halls(id),
    channel     text NOT NULL DEFAULT 'sms' CHECK (channel IN ('sms', 'wechat')),
    address     text NOT NULL,                      -- the phone number (or an openid): never logged
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS notify_contacts_hall ON notify_contacts (hall_id, created_at);

CREATE TABLE IF NOT EXISTS notify_outbox (
    id               bigserial PRIMARY KEY,
    hall_id          integer NOT NULL REFERENCES halls(id),
    ticket_id        text NOT NULL REFERENCES tickets(id),
    kind             text NOT NULL CHECK (kind IN ('near', 'called')),
    ticket_number    text NOT NULL,
    ahead            integer,                       -- near: tickets ahead when it was queued
    window_number    integer,                       -- called: where to go
    called_at        timestamptz,                   -- called: which call (a recall is the same one)
    -- queued (due at next_attempt_at) → sending (claimed until next_attempt_at)
    -- → sent, or back to queued with backoff, or failed (given up)
    status           text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz DEFAULT now(),
    claimed_by       text,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX IF NOT EXISTS notify_outbox_due
    ON notify_outbox (hall_id, next_attempt_at, id) WHERE status IN ('queued', 'sending');
CREATE UNIQUE INDEX IF NOT EXISTS notify_outbox_near_once ON notify_outbox (ticket_id) WHERE kind = 'near';
CREATE UNIQUE INDEX IF NOT EXISTS notify_outbox_call_once
    ON notify_outbox (ticket_id, called_at) WHERE kind = 'called';

-- the trigger that fills the outbox when a ticket is called (explained in schema.sql)
CREATE OR REPLACE FUNCTION notify_after_call() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM notify_contacts WHERE hall_id = NEW.hall_id) THEN
        RETURN NULL;
    END IF;
    INSERT INTO notify_outbox (hall_id, ticket_id, kind, ticket_number, window_number, called_at)
    SELECT NEW.hall_id, NEW.id, 'called', NEW.number,
           (SELECT w.number FROM windows w WHERE w.id = NEW.window_id), NEW.called_at
    FROM notify_contacts c WHERE c.ticket_id = NEW.id
    ON CONFLICT DO NOTHING;
    SELECT alert_ahead INTO n FROM halls WHERE id = NEW.hall_id;
    IF n > 0 THEN
        INSERT INTO notify_outbox (hall_id, ticket_id, kind, ticket_number, ahead)
        SELECT NEW.hall_id, line.id, 'near', line.number, line.ahead
        FROM (
            SELECT f.id, f.number,
                   row_number() OVER (ORDER BY f.priority DESC, f.order_at, f.id) - 1 AS ahead
            FROM ((SELECT id, number, priority, order_at FROM tickets
                   WHERE service_id = NEW.service_id AND status = 'waiting' AND priority = true
                   ORDER BY order_at, id LIMIT n + 1)
                  UNION ALL
                  (SELECT id, number, priority, order_at FROM tickets
                   WHERE service_id = NEW.service_id AND status = 'waiting' AND priority = false
                   ORDER BY order_at, id LIMIT n + 1)) f
        ) line
        JOIN notify_contacts c ON c.ticket_id = line.id
        WHERE line.ahead <= n
        ORDER BY line.ahead
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER notify_after_call
    AFTER UPDATE OF status ON tickets
    FOR EACH ROW WHEN (NEW.status = 'called' AND OLD.status IS DISTINCT FROM 'called')
    EXECUTE FUNCTION notify_after_call();
