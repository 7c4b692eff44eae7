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
    unstaffed_services        text NOT NULL DEFAULT 'warn' CHECK (unstaffed_services IN ('warn', 'refuse'))
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
                        ('normal', 'elderly', 'disabled', 'pregnant', 'military', 'enterprise')),
    priority          boolean NOT NULL,              -- green channel
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
    source      text NOT NULL CHECK (source IN ('citizen', 'pad')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- who issued the rated ticket (a kiosk, or a staff member at the counter),
    -- for the integrity signals; added by migration 0001 on older databases
    issued_by_device  integer REFERENCES devices(id),
    issued_by_staff   integer REFERENCES staff(id)
);

-- 差评整改: a bad rating (1–2) opens a follow-up case that a supervisor works
-- through (call back, fix, close) before its deadline.
CREATE TABLE IF NOT EXISTS follow_ups (
    id          bigserial PRIMARY KEY,
    hall_id     integer NOT NULL REFERENCES halls(id),
    rating_id   bigint NOT NULL UNIQUE REFERENCES ratings(id),
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'contacted', 'closed')),
    due_at      timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz,
    note        text
);
CREATE INDEX IF NOT EXISTS follow_ups_open ON follow_ups (hall_id, due_at) WHERE status <> 'closed';

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
