-- 红黄牌 (CONTRACT §11; issue 11, item 2): the cards' rules, the cards and their
-- notes. schema.sql has the same for a new database; this adds it to an older
-- one (a hall without a card_rules row has the defaults until its file is loaded).

CREATE TABLE IF NOT EXISTS card_rules (
    hall_id             integer PRIMARY KEY REFERENCES halls(id),
    time_limit          boolean NOT NULL DEFAULT true,
    wait_minutes        integer NOT NULL DEFAULT 30 CHECK (wait_minutes >= 0),
    idle_minutes        integer NOT NULL DEFAULT 10 CHECK (idle_minutes >= 0),
    absent_minutes      integer NOT NULL DEFAULT 15 CHECK (absent_minutes >= 0),
    out_of_order_calls  boolean NOT NULL DEFAULT true,
    suspended_twice     boolean NOT NULL DEFAULT true,
    bad_ratings         boolean NOT NULL DEFAULT true,
    red_after_yellows   integer NOT NULL DEFAULT 3 CHECK (red_after_yellows >= 0),
    red_period_days     integer NOT NULL DEFAULT 30 CHECK (red_period_days >= 1)
);

-- A card: issued by the evaluator (one per hall at a time, any process) once
-- per occurrence: `subject` names the occurrence within its rule (a ticket and
-- its call, a log entry, a window and the action that left it free …), and the
-- unique key makes a second evaluation, a restart or two evaluators racing
-- issue nothing new. `at` is when the rule was broken (the threshold reached);
-- `evidence` holds the tickets, times, threshold and the sentence saying why;
-- a red card lists the yellow cards it was made of in `yellows`. The ticket is
-- named, not referenced, as in the action log. Cards and their notes are never
-- changed or deleted: a trigger refuses it, and the server's role has no such
-- privilege (server/store/app_role.py).
CREATE TABLE IF NOT EXISTS cards (
    id             bigserial PRIMARY KEY,
    hall_id        integer NOT NULL REFERENCES halls(id),
    color          text NOT NULL CHECK (color IN ('yellow', 'red')),
    rule           text NOT NULL,
    subject        text NOT NULL,
    staff_id       integer REFERENCES staff(id),
    window_id      integer REFERENCES windows(id),
    ticket_id      text,
    ticket_number  text,
    at             timestamptz NOT NULL,
    issued_at      timestamptz NOT NULL DEFAULT now(),
    yellows        bigint[] NOT NULL DEFAULT '{}',
    evidence       jsonb NOT NULL,
    UNIQUE (hall_id, rule, subject)
);
CREATE INDEX IF NOT EXISTS cards_hall_at ON cards (hall_id, at);
-- the 空岗 rule finds who signed in at a window after someone signed out there
CREATE INDEX IF NOT EXISTS attendance_window ON attendance (window_id, signed_in_at);

-- A supervisor's note on a card (e.g. 系统故障): kept with it, in order.
CREATE TABLE IF NOT EXISTS card_notes (
    id        bigserial PRIMARY KEY,
    hall_id   integer NOT NULL REFERENCES halls(id),
    card_id   bigint NOT NULL REFERENCES cards(id),
    staff_id  integer NOT NULL REFERENCES staff(id),
    text      text NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS card_notes_card ON card_notes (card_id, id);

CREATE OR REPLACE FUNCTION cards_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% are kept: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE OR REPLACE TRIGGER cards_no_change
    BEFORE UPDATE OR DELETE ON cards
    FOR EACH ROW EXECUTE FUNCTION cards_kept();
CREATE OR REPLACE TRIGGER cards_no_truncate
    BEFORE TRUNCATE ON cards
    FOR EACH STATEMENT EXECUTE FUNCTION cards_kept();
CREATE OR REPLACE TRIGGER card_notes_no_change
    BEFORE UPDATE OR DELETE ON card_notes
    FOR EACH ROW EXECUTE FUNCTION cards_kept();
CREATE OR REPLACE TRIGGER card_notes_no_truncate
    BEFORE TRUNCATE ON card_notes
    FOR EACH STATEMENT EXECUTE FUNCTION cards_kept();
