-- clearhall schema: every table, index and trigger lives here.
--
-- Applied at every start; applying it twice changes nothing (IF NOT EXISTS,
-- CREATE OR REPLACE). Changes after the first release are numbered migrations
-- in server/migrations/, applied in order after this file and recorded in
-- schema_migrations.
--
-- Every hall-owned row carries hall_id: one database can later serve all the
-- halls of a city, with a city-level supervision view across them.

CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- One row: the per-installation secret that keys the ID-number hashes.
CREATE TABLE IF NOT EXISTS installation (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    secret      bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS halls (
    id                        serial PRIMARY KEY,
    code                      text NOT NULL UNIQUE,
    name                      text NOT NULL,
    timezone                  text NOT NULL DEFAULT 'Asia/Shanghai',
    public_url                text,
    max_consecutive_priority  integer NOT NULL DEFAULT 3 CHECK (max_consecutive_priority >= 1),
    daily_tickets_per_id      integer NOT NULL DEFAULT 5 CHECK (daily_tickets_per_id >= 1),
    opens_at                  time NOT NULL DEFAULT '08:30',
    closes_at                 time NOT NULL DEFAULT '17:30',
    -- tickets one kiosk may issue per minute (0 = no limit); added by migration
    -- 0002 on older databases
    kiosk_tickets_per_minute  integer NOT NULL DEFAULT 30 CHECK (kiosk_tickets_per_minute >= 0),
    -- 过号: seconds after a call before no-show is allowed (0 = at once); a
    -- missed ticket may come back once, this many behind the head of its line
    -- (0 = never); issuing for a service no open window serves: warn or refuse.
    -- Added by migration 0003 on older databases.
    no_show_after_s           integer NOT NULL DEFAULT 60 CHECK (no_show_after_s >= 0),
    no_show_comeback_behind   integer NOT NULL DEFAULT 0 CHECK (no_show_comeback_behind >= 0),
    unstaffed_services        text NOT NULL DEFAULT 'warn' CHECK (unstaffed_services IN ('warn', 'refuse')),
    -- 叫号提醒: warn a citizen (phone page, SMS) this many tickets before their
    -- turn (0 = off). Added by migration 0005 on older databases.
    alert_ahead               integer NOT NULL DEFAULT 3 CHECK (alert_ahead >= 0),
    -- 好差评 (docs/haochaping.md), from the hall file's [ratings] and [calendar]:
    -- the reasons a 差评 offers, how long after the finish a ticket may be rated,
    -- working days to handle a case, days a closed case keeps its call-back
    -- number, default ratings (0 = off), and the hall's closed days and 调休
    -- workdays. Added by migration 0007 on older databases.
    rating_bad_reasons        text[] NOT NULL
                              DEFAULT '{态度冷漠,办事拖拉,一次性告知不到位,多次跑动,收费不合理,其他}',
    rate_within_days          integer NOT NULL DEFAULT 7 CHECK (rate_within_days >= 1),
    follow_up_days            integer NOT NULL DEFAULT 5 CHECK (follow_up_days >= 1),
    contact_retention_days    integer NOT NULL DEFAULT 90 CHECK (contact_retention_days >= 1),
    default_after_days        integer NOT NULL DEFAULT 0 CHECK (default_after_days >= 0),
    default_score             integer NOT NULL DEFAULT 3 CHECK (default_score BETWEEN 3 AND 5),
    calendar_holidays         date[] NOT NULL DEFAULT '{}',
    calendar_workdays         date[] NOT NULL DEFAULT '{}',
    -- [ratings.forward]: the provincial 好差评 platform (no url: forwarding is
    -- off). The bearer token is in the environment variable NAMED here, never
    -- in the database. Added by migration 0007.
    forward_url               text,
    forward_token_env         text,
    region_code               text,                 -- 行政区划代码
    dept_code                 text,
    dept_name                 text,
    -- [signals]: the integrity signals' thresholds, as one object of the hall
    -- file's keys; a key missing takes its default (server/store/hall_signals.py).
    -- Added by migration 0011 on older databases.
    signal_thresholds         jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- the days the hall opens: its working days (the [calendar]) or every day.
    -- Added by migration 0012.
    open_days                 text NOT NULL DEFAULT 'workdays' CHECK (open_days IN ('workdays', 'all'))
);

CREATE TABLE IF NOT EXISTS services (
    id                  serial PRIMARY KEY,
    hall_id             integer NOT NULL REFERENCES halls(id),
    code                text NOT NULL CHECK (code ~ '^[A-Z]{1,2}$'),
    name                text NOT NULL,
    time_limit_minutes  integer NOT NULL DEFAULT 30 CHECK (time_limit_minutes > 0),
    real_name_required  boolean NOT NULL DEFAULT false,
    position            integer NOT NULL DEFAULT 0,
    active              boolean NOT NULL DEFAULT true,
    -- typical handling time (call to finish), for wait estimates until there is
    -- history; NULL = a third of time_limit_minutes. Added by migration 0004.
    typical_minutes     integer CHECK (typical_minutes > 0),
    -- 一次性告知: the documents to bring, and where in the hall it is handled
    -- (free text such as "A区 1–4号窗口"). Added by migration 0006.
    materials           text[] NOT NULL DEFAULT '{}',
    place               text,
    -- 事项编码 on the provincial 好差评 platform (hall file's matter_code). Migration 0007.
    matter_code         text,
    -- 预约: whether the service takes bookings, its slots' length and how many
    -- each holds (docs/appointments.md). Added by migration 0012.
    appointments        boolean NOT NULL DEFAULT false,
    slot_minutes        integer NOT NULL DEFAULT 30 CHECK (slot_minutes > 0),
    slot_capacity       integer NOT NULL DEFAULT 2 CHECK (slot_capacity > 0),
    UNIQUE (hall_id, code)
);

CREATE TABLE IF NOT EXISTS staff (
    id             serial PRIMARY KEY,
    hall_id        integer NOT NULL REFERENCES halls(id),
    username       text NOT NULL,
    name           text NOT NULL,
    password_hash  text NOT NULL,               -- argon2id; never the password
    role           text NOT NULL CHECK (role IN ('staff', 'supervisor', 'admin')),
    party_member   boolean NOT NULL DEFAULT false,
    active         boolean NOT NULL DEFAULT true,
    UNIQUE (hall_id, username)
);

CREATE TABLE IF NOT EXISTS windows (
    id                 serial PRIMARY KEY,
    hall_id            integer NOT NULL REFERENCES halls(id),
    number             integer NOT NULL CHECK (number > 0),
    active             boolean NOT NULL DEFAULT true,
    staff_id           integer REFERENCES staff(id),  -- who is signed in now
    paused             boolean NOT NULL DEFAULT false,
    pause_reason       text,
    current_ticket_id  text,                         -- called or serving here now
    priority_run       integer NOT NULL DEFAULT 0,   -- green-channel call-nexts in a row
    UNIQUE (hall_id, number)
);
-- One person at one window at a time.
CREATE UNIQUE INDEX IF NOT EXISTS windows_one_staff ON windows (staff_id) WHERE staff_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS window_services (
    window_id   integer NOT NULL REFERENCES windows(id),
    service_id  integer NOT NULL REFERENCES services(id),
    PRIMARY KEY (window_id, service_id)
);

CREATE TABLE IF NOT EXISTS staff_windows (
    staff_id   integer NOT NULL REFERENCES staff(id),
    window_id  integer NOT NULL REFERENCES windows(id),
    PRIMARY KEY (staff_id, window_id)
);

CREATE TABLE IF NOT EXISTS devices (
    id          serial PRIMARY KEY,
    hall_id     integer NOT NULL REFERENCES halls(id),
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('kiosk', 'display', 'rating', 'printer')),
    token_hash  bytea NOT NULL UNIQUE,           -- sha256 of the bearer token
    window_id   integer REFERENCES windows(id),
    active      boolean NOT NULL DEFAULT true,
    UNIQUE (hall_id, name)
);

-- Staff log-in tokens, stored hashed, expiring.
CREATE TABLE IF NOT EXISTS sessions (
    id          bigserial PRIMARY KEY,
    hall_id     integer NOT NULL REFERENCES halls(id),
    staff_id    integer NOT NULL REFERENCES staff(id),
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    ended_at    timestamptz
);

-- 考勤打卡: one row per sign-in at a window.
CREATE TABLE IF NOT EXISTS attendance (
    id              bigserial PRIMARY KEY,
    hall_id         integer NOT NULL REFERENCES halls(id),
    window_id       integer NOT NULL REFERENCES windows(id),
    staff_id        integer NOT NULL REFERENCES staff(id),
    signed_in_at    timestamptz NOT NULL DEFAULT now(),
    signed_out_at   timestamptz
);
CREATE INDEX IF NOT EXISTS attendance_open ON attendance (staff_id) WHERE signed_out_at IS NULL;

-- The daily ticket numbers. Incremented in the same transaction as the ticket
-- insert, so a rolled-back issue leaves no hole and two issues never share one.
CREATE TABLE IF NOT EXISTS ticket_counters (
    hall_id     integer NOT NULL REFERENCES halls(id),
    service_id  integer NOT NULL REFERENCES services(id),
    day         date NOT NULL,
    last        integer NOT NULL,
    PRIMARY KEY (service_id, day)
);

CREATE TABLE IF NOT EXISTS tickets (
    id                text PRIMARY KEY,              -- random, unguessable
    hall_id           integer NOT NULL REFERENCES halls(id),
    service_id        integer NOT NULL REFERENCES services(id),
    first_service_id  integer NOT NULL REFERENCES services(id),
    day               date NOT NULL,                 -- hall-local issue day
    seq               integer NOT NULL,
    number            text NOT NULL,                 -- "A001"
    category          text NOT NULL CHECK (category IN
                        ('normal', 'elderly', 'disabled', 'pregnant', 'military', 'enterprise',
                         'appointment')),           -- 'appointment' added by migration 0012
    priority          boolean NOT NULL,              -- called first: green channel or appointment
    status            text NOT NULL CHECK (status IN
                        ('waiting', 'called', 'serving', 'done', 'no_show', 'suspended')),
    issued_at         timestamptz NOT NULL DEFAULT now(),
    order_at          timestamptz NOT NULL,          -- place in line; kept on transfer
    key_hash          bytea NOT NULL,                -- sha256 of the citizen's key
    id_hash           bytea,                         -- HMAC of the ID number
    id_masked         text,                          -- first 4 and last 4 only
    phone_hash        bytea,
    phone_masked      text,
    issued_by_device  integer REFERENCES devices(id),
    issued_by_staff   integer REFERENCES staff(id),
    window_id         integer REFERENCES windows(id),
    staff_id          integer REFERENCES staff(id),
    called_at         timestamptz,
    started_at        timestamptz,
    finished_at       timestamptz,
    suspend_reason    text,
    missing           text[],
    -- 办件编号: the case's number in the provincial approval system, given at
    -- finish or afterwards; a rating carries it. Added by migration 0007.
    case_number       text,
    -- 帮代办: the proxy who took the ticket for its applicant (id_hash is the
    -- applicant's, whom the caps count). Added by migration 0012.
    proxy_id_hash     bytea,
    proxy_id_masked   text,
    UNIQUE (first_service_id, day, seq)   -- the number stays with its first service
);
-- Call-next reads one of these two in its ORDER BY (green channel first, or
-- normal first once a window's green run is full), oldest place first, and
-- stops at the first row it can lock. Without them every call sorts the
-- whole waiting set.
CREATE INDEX IF NOT EXISTS tickets_waiting_green_first
    ON tickets (hall_id, priority DESC, order_at, id) WHERE status = 'waiting';
CREATE INDEX IF NOT EXISTS tickets_waiting_normal_first
    ON tickets (hall_id, priority, order_at, id) WHERE status = 'waiting';
-- People ahead and the waiting count of one service read this instead of
-- every ticket ever issued.
CREATE INDEX IF NOT EXISTS tickets_waiting_by_service
    ON tickets (service_id, priority, order_at, id) WHERE status = 'waiting';
-- One unfinished ticket per ID number per service (the per-ID limit's backstop).
CREATE UNIQUE INDEX IF NOT EXISTS tickets_one_open_per_id
    ON tickets (service_id, id_hash)
    WHERE id_hash IS NOT NULL AND status IN ('waiting', 'called', 'serving', 'suspended');
CREATE INDEX IF NOT EXISTS tickets_id_day ON tickets (hall_id, id_hash, day) WHERE id_hash IS NOT NULL;
CREATE INDEX IF NOT EXISTS tickets_finished
    ON tickets (service_id, finished_at) WHERE status = 'done';
CREATE INDEX IF NOT EXISTS tickets_day ON tickets (hall_id, day);
-- The reports' visits ended in a span (done or missed), by their end: without it
-- the daily report reads every ticket ever (tests/store/test_plans.py).
CREATE INDEX IF NOT EXISTS tickets_ended ON tickets (hall_id, finished_at) WHERE status IN ('done', 'no_show');

-- Answers to window calls made with an Idempotency-Key (kept 24 hours).
CREATE TABLE IF NOT EXISTS idempotency_keys (
    principal   text NOT NULL,                       -- 'session:12', 'device:3'
    endpoint    text NOT NULL,
    key         text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    status      integer,
    body        jsonb,
    PRIMARY KEY (principal, endpoint, key)
);

-- The action log: who did what, where, to which ticket, why, and which ticket
-- the published rule would have chosen. Rows are only ever inserted; the
-- trigger below refuses UPDATE and DELETE, and TRUNCATE is refused too.
CREATE TABLE IF NOT EXISTS action_log (
    id                 bigserial PRIMARY KEY,
    hall_id            integer NOT NULL REFERENCES halls(id),
    at                 timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_kind         text NOT NULL CHECK (actor_kind IN ('staff', 'device', 'citizen', 'system')),
    actor_id           integer,
    actor_name         text NOT NULL,
    window_number      integer,
    ticket_id          text,
    ticket_number      text,
    action             text NOT NULL,
    reason             text,
    rule_ticket_id     text,                         -- what call-next would have called
    rule_ticket_number text,
    details            jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS action_log_ticket ON action_log (ticket_id);
CREATE INDEX IF NOT EXISTS action_log_hall_at ON action_log (hall_id, at);

CREATE OR REPLACE FUNCTION action_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'action_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE OR REPLACE TRIGGER action_log_no_change
    BEFORE UPDATE OR DELETE ON action_log
    FOR EACH ROW EXECUTE FUNCTION action_log_append_only();
CREATE OR REPLACE TRIGGER action_log_no_truncate
    BEFORE TRUNCATE ON action_log
    FOR EACH STATEMENT EXECUTE FUNCTION action_log_append_only();

-- 好差评: one rating per ticket, tied to its service, window and staff member.
CREATE TABLE IF NOT EXISTS ratings (
    id          bigserial PRIMARY KEY,
    hall_id     integer NOT NULL REFERENCES halls(id),
    ticket_id   text NOT NULL UNIQUE REFERENCES tickets(id),
    service_id  integer NOT NULL REFERENCES services(id),
    window_id   integer REFERENCES windows(id),
    staff_id    integer REFERENCES staff(id),
    score       integer NOT NULL CHECK (score BETWEEN 1 AND 5),
    dimensions  jsonb NOT NULL DEFAULT '{}'::jsonb,
    comment     text,
    -- where it was given: the window's pad, the citizen's phone (the ticket's
    -- key), or a default for a visit left unrated. Before migration 0007 this
    -- was `source` ('pad' | 'citizen', which is 'phone').
    channel     text NOT NULL CONSTRAINT ratings_channel_check CHECK (channel IN ('pad', 'phone', 'default')),
    created_at  timestamptz NOT NULL DEFAULT now(),   -- rated_at
    -- who issued the rated ticket (a kiosk, or a staff member at the counter),
    -- for the integrity signals; added by migration 0001 on older databases
    issued_by_device  integer REFERENCES devices(id),
    issued_by_staff   integer REFERENCES staff(id),
    -- a 差评's reasons, from the hall's list; `excluded`: an upheld appeal took
    -- it out of the staff member's figures (the rating itself stays). 0007.
    reasons     text[] NOT NULL DEFAULT '{}',
    excluded    boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS ratings_hall_at ON ratings (hall_id, created_at);

-- 投诉: a citizen's complaint (no log-in), about a visit (its ticket, proved by
-- the ticket's key) or a window, or neither. Without a ticket the complaint has
-- a key of its own (sha256 here; the citizen is given it once) to rate the
-- handling with. It opens a follow-up case, which holds any call-back number.
CREATE TABLE IF NOT EXISTS complaints (
    id          bigserial PRIMARY KEY,
    hall_id     integer NOT NULL REFERENCES halls(id),
    text        text NOT NULL,
    ticket_id   text REFERENCES tickets(id),
    window_id   integer REFERENCES windows(id),
    key_hash    bytea,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- 差评整改: a bad rating (1–2) or a complaint opens a follow-up case that
-- supervisors work through (call back, fix or explain, close) before its
-- deadline, counted in working days on the hall's calendar. Its state is
-- derived: closed, else overdue once due_at has passed, else open.
-- `overdue_at` is when follow_up.overdue was sent (once, across processes);
-- `contact` is the call-back number, erased contact_retention_days after the
-- case closed. Migration 0007 brought kind … satisfaction_at to older databases.
CREATE TABLE IF NOT EXISTS follow_ups (
    id               bigserial PRIMARY KEY,
    hall_id          integer NOT NULL REFERENCES halls(id),
    rating_id        bigint UNIQUE REFERENCES ratings(id),
    status           text NOT NULL DEFAULT 'open' CONSTRAINT follow_ups_status_check
                     CHECK (status IN ('open', 'closed')),
    due_at           timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    closed_at        timestamptz,
    kind             text NOT NULL DEFAULT 'rating' CHECK (kind IN ('rating', 'complaint')),
    complaint_id     bigint UNIQUE REFERENCES complaints(id),
    staff_id         integer REFERENCES staff(id),      -- whom it is about, when known
    window_id        integer REFERENCES windows(id),
    contact          text,                              -- never logged, never shown but to supervisors
    overdue_at       timestamptz,
    satisfaction     text CHECK (satisfaction IN ('satisfied', 'basically', 'unsatisfied')),
    satisfaction_at  timestamptz,
    CONSTRAINT follow_ups_one_subject CHECK (
        (kind = 'rating' AND rating_id IS NOT NULL AND complaint_id IS NULL)
        OR (kind = 'complaint' AND complaint_id IS NOT NULL AND rating_id IS NULL))
);
CREATE INDEX IF NOT EXISTS follow_ups_open ON follow_ups (hall_id, due_at) WHERE status <> 'closed';
CREATE INDEX IF NOT EXISTS follow_ups_hall_created ON follow_ups (hall_id, created_at);

-- The steps of a case, in order, each by a supervisor. One appeal (申诉) and one
-- decision on it per case, and one close; `upheld` goes with the decision only.
CREATE TABLE IF NOT EXISTS follow_up_steps (
    id            bigserial PRIMARY KEY,
    hall_id       integer NOT NULL REFERENCES halls(id),
    follow_up_id  bigint NOT NULL REFERENCES follow_ups(id),
    kind          text NOT NULL CHECK (kind IN ('callback', 'fix', 'explain', 'close', 'appeal', 'appeal_decision')),
    text          text,
    upheld        boolean,
    staff_id      integer NOT NULL REFERENCES staff(id),
    at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT follow_up_steps_upheld CHECK ((kind = 'appeal_decision') = (upheld IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS follow_up_steps_case ON follow_up_steps (follow_up_id, id);
CREATE UNIQUE INDEX IF NOT EXISTS follow_up_steps_once
    ON follow_up_steps (follow_up_id, kind) WHERE kind IN ('appeal', 'appeal_decision', 'close');

-- 清廉知识上屏: integrity notices on the screens, managed by supervisors.
CREATE TABLE IF NOT EXISTS notices (
    id          serial PRIMARY KEY,
    hall_id     integer NOT NULL REFERENCES halls(id),
    title       text NOT NULL,
    body        text NOT NULL,
    starts_on   date,
    ends_on     date,
    position    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Ticket printers (CONTRACT §8), from the hall file's [[printers]]: matched by
-- hall and name. `state` is what the printer last said about itself, with when
-- it changed and the last error seen (kept after it recovers, for supervisors).
CREATE TABLE IF NOT EXISTS printers (
    id                serial PRIMARY KEY,
    hall_id           integer NOT NULL REFERENCES halls(id),
    name              text NOT NULL,
    kiosk_id          integer NOT NULL REFERENCES devices(id),
    address           text NOT NULL,                -- tcp://, usb://, serial://, file:// or agent://
    paper             text NOT NULL DEFAULT '80mm' CHECK (paper IN ('80mm', '58mm')),
    encoding          text NOT NULL DEFAULT 'gb18030' CHECK (encoding IN ('gb18030', 'gbk')),
    mode              text NOT NULL DEFAULT 'text' CHECK (mode IN ('text', 'raster')),
    active            boolean NOT NULL DEFAULT true,
    state             text NOT NULL DEFAULT 'unknown' CHECK (state IN
                        ('ready', 'offline', 'paper_out', 'paper_near_end', 'cover_open', 'unknown')),
    state_changed_at  timestamptz NOT NULL DEFAULT now(),
    checked_at        timestamptz,
    last_error        text,
    last_error_at     timestamptz,
    UNIQUE (hall_id, name)
);

-- Print jobs: queued → sent → printed, or failed (retried at next_attempt_at;
-- NULL there means given up), or cancelled by a supervisor. `data` is the
-- ESC/POS job rendered at issue time: it holds the phone URL with the ticket's
-- key, as does `url` on a ticket's first job (kept for 补打). Both are wiped a
-- day later and are never returned by the API or logged.
CREATE TABLE IF NOT EXISTS print_jobs (
    id               bigserial PRIMARY KEY,
    hall_id          integer NOT NULL REFERENCES halls(id),
    printer_id       integer NOT NULL REFERENCES printers(id),
    ticket_id        text NOT NULL REFERENCES tickets(id),
    reprint          boolean NOT NULL DEFAULT false,
    data             bytea,
    url              text,
    status           text NOT NULL DEFAULT 'queued' CHECK (status IN
                       ('queued', 'sent', 'printed', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    next_attempt_at  timestamptz DEFAULT now(),
    claimed_by       text,                          -- who is sending it now: a process or an agent link
    lease_until      timestamptz,                   -- a 'sent' job whose sender vanished is due again after
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    printed_at       timestamptz
);
-- The worker's claim reads due jobs in this order, skipping locked ones.
CREATE INDEX IF NOT EXISTS print_jobs_due
    ON print_jobs (hall_id, next_attempt_at, id) WHERE status IN ('queued', 'failed', 'sent');
CREATE INDEX IF NOT EXISTS print_jobs_ticket ON print_jobs (ticket_id);
CREATE INDEX IF NOT EXISTS print_jobs_printer ON print_jobs (printer_id, status);

-- Rate limits (CONTRACT §3): failed log-ins by username and by address, tickets
-- per kiosk. One row per limited subject, counted by one UPSERT per attempt
-- (server/domain/throttle.py), so a limit holds across server processes.
-- `full_at` is when the subject's allowance is whole again: each attempt
-- pushes it one spacing later, and an attempt that would push it past the
-- allowance is refused. A row whose full_at has passed says nothing and may go.
CREATE TABLE IF NOT EXISTS throttles (
    hall_id  integer NOT NULL REFERENCES halls(id),
    scope    text NOT NULL,                          -- 'login_username', 'login_address', 'kiosk_tickets'
    subject  text NOT NULL,                          -- the username, the address, the device id
    full_at  timestamptz NOT NULL,
    PRIMARY KEY (hall_id, scope, subject)
);
CREATE INDEX IF NOT EXISTS throttles_full_at ON throttles (full_at);

-- Forwarding to the provincial 好差评 platform (CONTRACT §7): one row per
-- rating and per closed follow-up, written in the transaction that made it,
-- sent at least once by whichever server process claims it (SKIP LOCKED, with
-- a lease that outlives a crash) until the platform answers 2xx. The payload
-- is built when it is sent; `idempotency_key` is the rating id (or
-- follow-up-<case id>), sent as the Idempotency-Key header every time.
CREATE TABLE IF NOT EXISTS forward_outbox (
    id               bigserial PRIMARY KEY,
    hall_id          integer NOT NULL REFERENCES halls(id),
    kind             text NOT NULL CHECK (kind IN ('rating', 'follow_up')),
    ref_id           bigint NOT NULL,                -- ratings.id or follow_ups.id
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

-- 叫号提醒 by SMS or WeChat 订阅消息 (server/notify): a citizen who left a phone
-- number at the kiosk is told when their turn is near (at most
-- halls.alert_ahead tickets ahead, once) and when they are called (once per
-- call). Only a server process with a notifier keeps the number
-- (notify_contacts, in clear: it is what a message is sent to), and only until
-- the ticket is done or missed, or a day at most. The messages are put in the
-- outbox by the trigger below, in the transaction of the call itself, and sent
-- by whichever process claims them (SKIP LOCKED, a lease that outlives a crash:
-- at least once), retried with backoff and given up after a few attempts or
-- when too late to help. Outbox rows hold no phone number.
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

-- After a ticket is called: its own "called" message, and the early warning of
-- the tickets of its service now at most alert_ahead from the front (the first
-- alert_ahead + 1 in call-next's order, read from tickets_waiting_by_service,
-- green channel first as `ahead` counts), each only where a contact is kept.
-- Without any contact in the hall (no notifier) it stops at the first lookup.
-- Inserted in one order, so two calls at once never wait on each other in a circle.
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

-- The integrity log's chain (CONTRACT §11): entry `seq` of a hall's action log
-- (gapless, 1, 2, 3, … in the order sealed) has hash = SHA-256 over the
-- previous entry's hash, its seq and its content (server/domain/integrity.py).
-- Actions insert into action_log with no lock between them; one sealer per
-- hall (an advisory lock, any process) chains them here shortly after. Rows
-- are only ever inserted, like the log's; there is no foreign key, so an entry
-- deleted by hand shows as missing instead of being kept by one.
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

-- 红黄牌 (CONTRACT §11; docs/supervision.md, "Red and yellow cards"). The hall
-- file's [cards] rules, one row per hall (no row: the defaults; 0 or false
-- switches a rule off).
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

-- 预约 (CONTRACT §12; docs/appointments.md). The hall file's [appointments],
-- one row per hall (no row: the defaults).
CREATE TABLE IF NOT EXISTS appointment_rules (
    hall_id                integer PRIMARY KEY REFERENCES halls(id),
    cancel_before_minutes  integer NOT NULL DEFAULT 60 CHECK (cancel_before_minutes >= 0),
    checkin_early_minutes  integer NOT NULL DEFAULT 30 CHECK (checkin_early_minutes >= 0),
    checkin_late_minutes   integer NOT NULL DEFAULT 15 CHECK (checkin_late_minutes >= 0),
    no_show_limit          integer NOT NULL DEFAULT 3 CHECK (no_show_limit >= 0),
    no_show_days           integer NOT NULL DEFAULT 30 CHECK (no_show_days >= 1),
    days_ahead             integer NOT NULL DEFAULT 7 CHECK (days_ahead >= 1)
);

-- How many bookings each slot holds: a booking takes its place in one
-- statement that adds one only while the slot has room, so the last place goes
-- to exactly one of two bookers; a cancellation gives it back.
CREATE TABLE IF NOT EXISTS appointment_slots (
    service_id  integer NOT NULL REFERENCES services(id),
    slot        timestamptz NOT NULL,
    taken       integer NOT NULL DEFAULT 0 CHECK (taken >= 0),
    PRIMARY KEY (service_id, slot)
);

-- A booking. Its code (what the QR holds and the citizen types) is stored as a
-- SHA-256 like a ticket's key; the ID number and phone as keyed hashes. A
-- booking is 'booked' until it is checked in (its ticket), cancelled, or its
-- check-in window passes (a no-show: still 'booked', with its slot past).
-- The code, the ID number and the phone are erased (NULL) once the booking is
-- [retention] personal_days old; every booking has them until then
-- (NOT NULL until migration 0013).
CREATE TABLE IF NOT EXISTS appointments (
    id             text PRIMARY KEY,                 -- random, unguessable
    hall_id        integer NOT NULL REFERENCES halls(id),
    service_id     integer NOT NULL REFERENCES services(id),
    day            date NOT NULL,                    -- the slot's hall-local day
    slot           timestamptz NOT NULL,
    slot_end       timestamptz NOT NULL,
    code_hash      bytea UNIQUE,
    id_hash        bytea,
    id_masked      text,
    phone_hash     bytea,
    phone_masked   text,
    status         text NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'checked_in', 'cancelled')),
    ticket_id      text REFERENCES tickets(id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    changed_at     timestamptz
);
-- one booking per ID number per service per day (cancelled ones aside)
CREATE UNIQUE INDEX IF NOT EXISTS appointments_one_per_day
    ON appointments (service_id, day, id_hash) WHERE status <> 'cancelled';
CREATE INDEX IF NOT EXISTS appointments_hall_day ON appointments (hall_id, day);
CREATE INDEX IF NOT EXISTS appointments_id ON appointments (hall_id, id_hash, slot);

-- 延时服务: kiosks issue for these services outside the hall's hours until
-- `until` (or until ended early), opened by staff or a supervisor.
CREATE TABLE IF NOT EXISTS extended_hours (
    id          serial PRIMARY KEY,
    hall_id     integer NOT NULL REFERENCES halls(id),
    service_ids integer[] NOT NULL,
    until       timestamptz NOT NULL,
    opened_by   integer NOT NULL REFERENCES staff(id),
    opened_at   timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz,
    ended_by    integer REFERENCES staff(id)
);
CREATE INDEX IF NOT EXISTS extended_hours_hall ON extended_hours (hall_id, until);

-- 帮代办: registered proxies, from the hall file ([[proxies]]) or added by a
-- supervisor; known by the keyed hash of their ID number.
CREATE TABLE IF NOT EXISTS proxies (
    id          serial PRIMARY KEY,
    hall_id     integer NOT NULL REFERENCES halls(id),
    name        text NOT NULL,
    id_hash     bytea NOT NULL,
    id_masked   text NOT NULL,
    note        text,
    source      text NOT NULL CHECK (source IN ('file', 'supervisor')),
    active      boolean NOT NULL DEFAULT true,
    added_by    integer REFERENCES staff(id),
    added_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (hall_id, id_hash)
);

-- Data retention (docs/operating.md, "Data retention"): the hall file's
-- [retention]. A ticket or booking whose hall-local day is personal_days past
-- loses its ID and phone numbers (hashes and masks), its proxy's and its key
-- (server/domain/retention.py); `purged_before` is the day the purge has
-- reached, so each sweep reads only the days that have come of age since.
-- No row: the default, made by the first sweep. Added by migration 0013.
CREATE TABLE IF NOT EXISTS retention_rules (
    hall_id        integer PRIMARY KEY REFERENCES halls(id),
    personal_days  integer NOT NULL DEFAULT 180 CHECK (personal_days >= 1),
    purged_before  date
);
