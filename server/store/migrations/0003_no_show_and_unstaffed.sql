-- The hall file's [policy] no_show_after_s (seconds after a call before 过号 is
-- allowed; 0 = at once), no_show_comeback_behind (过号顺延: a missed ticket may
-- come back once, N behind the head of its line; 0 = never) and
-- unstaffed_services (issuing for a service no open window serves: "warn" or
-- "refuse"). schema.sql has these columns for a new database; this adds them
-- to an older one.
ALTER TABLE halls ADD COLUMN IF NOT EXISTS no_show_after_s integer NOT NULL DEFAULT 60
    CHECK (no_show_after_s >= 0);
ALTER TABLE halls ADD COLUMN IF NOT EXISTS no_show_comeback_behind integer NOT NULL DEFAULT 0
    CHECK (no_show_comeback_behind >= 0);
ALTER TABLE halls ADD COLUMN IF NOT EXISTS unstaffed_services text NOT NULL DEFAULT 'warn'
    CHECK (unstaffed_services IN ('warn', 'refuse'));
