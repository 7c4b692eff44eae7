-- 好差评 end to end (issue 10; docs/haochaping.md). schema.sql has all of this,
-- with its comments, for a new database; this brings an older one to the same
-- shape. It runs once, and on a new database it changes nothing.

-- The hall file's [ratings], [ratings.forward] and [calendar] on the hall's row.
ALTER TABLE halls ADD COLUMN IF NOT EXISTS rating_bad_reasons text[] NOT NULL
    DEFAULT '{态度冷漠,办事拖拉,一次性告知不到位,多次跑动,收费不合理,其他}';
ALTER TABLE halls ADD COLUMN IF NOT EXISTS rate_within_days integer NOT NULL DEFAULT 7
    CHECK (rate_within_days >= 1);
ALTER TABLE halls ADD COLUMN IF NOT EXISTS follow_up_days integer NOT NULL DEFAULT 5
    CHECK (follow_up_days >= 1);
ALTER TABLE halls ADD COLUMN IF NOT EXISTS contact_retention_days integer NOT NULL DEFAULT 90
    CHECK (contact_retention_days >= 1);
ALTER TABLE halls ADD COLUMN IF NOT EXISTS default_after_days integer NOT NULL DEFAULT 0
    CHECK (default_after_days >= 0);
ALTER TABLE halls ADD COLUMN IF NOT EXISTS default_score integer NOT NULL DEFAULT 3
    CHECK (default_score BETWEEN 3 AND 5);
ALTER TABLE halls ADD COLUMN IF NOT EXISTS calendar_holidays date[] NOT NULL DEFAULT '{}';
ALTER TABLE halls ADD COLUMN IF NOT EXISTS calendar_workdays date[] NOT NULL DEFAULT '{}';
ALTER TABLE halls ADD COLUMN IF NOT EXISTS forward_url text;
ALTER TABLE halls ADD COLUMN IF NOT EXISTS forward_token_env text;
ALTER TABLE halls ADD COLUMN IF NOT EXISTS region_code text;
ALTER TABLE halls ADD COLUMN IF NOT EXISTS dept_code text;
ALTER TABLE halls ADD COLUMN IF NOT EXISTS dept_name text;

-- 事项编码 per service, 办件编号 per ticket.
ALTER TABLE services ADD COLUMN IF NOT EXISTS matter_code text;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS case_number text;

-- ratings.source ('pad' | 'citizen') becomes ratings.channel ('pad' | 'phone' |
-- 'default'): a citizen's rating was always given with the ticket's key, on
-- the phone page, so 'citizen' is 'phone'. Nothing else about a rating changes.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name = 'ratings' AND column_name = 'source') THEN
        ALTER TABLE ratings DROP CONSTRAINT IF EXISTS ratings_source_check;
        ALTER TABLE ratings RENAME COLUMN source TO channel;
        UPDATE ratings SET channel = 'phone' WHERE channel = 'citizen';
    END IF;
END
$$;
ALTER TABLE ratings DROP CONSTRAINT IF EXISTS ratings_channel_check;
ALTER TABLE ratings ADD CONSTRAINT ratings_channel_check CHECK (channel IN ('pad', 'phone', 'default'));
ALTER TABLE ratings ADD COLUMN IF NOT EXISTS reasons text[] NOT NULL DEFAULT '{}';
ALTER TABLE ratings ADD COLUMN IF NOT EXISTS excluded boolean NOT NULL DEFAULT false;

-- follow_ups: a case is a bad rating's or a complaint's. The 'contacted' status
-- was never written by any version (nothing read the table), so an old row is
-- open or closed; its due_at (then 3 calendar days) is kept as it was given.
-- `note` was never written either and goes: a case's words are its steps now.
ALTER TABLE follow_ups ALTER COLUMN rating_id DROP NOT NULL;
UPDATE follow_ups SET status = 'open' WHERE status = 'contacted';
ALTER TABLE follow_ups DROP CONSTRAINT IF EXISTS follow_ups_status_check;
ALTER TABLE follow_ups ADD CONSTRAINT follow_ups_status_check CHECK (status IN ('open', 'closed'));
ALTER TABLE follow_ups ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'rating'
    CHECK (kind IN ('rating', 'complaint'));
ALTER TABLE follow_ups ADD COLUMN IF NOT EXISTS complaint_id bigint UNIQUE REFERENCES complaints(id);
ALTER TABLE follow_ups ADD COLUMN IF NOT EXISTS staff_id integer REFERENCES staff(id);
ALTER TABLE follow_ups ADD COLUMN IF NOT EXISTS window_id integer REFERENCES windows(id);
ALTER TABLE follow_ups ADD COLUMN IF NOT EXISTS contact text;
ALTER TABLE follow_ups ADD COLUMN IF NOT EXISTS overdue_at timestamptz;
ALTER TABLE follow_ups ADD COLUMN IF NOT EXISTS satisfaction text
    CHECK (satisfaction IN ('satisfied', 'basically', 'unsatisfied'));
ALTER TABLE follow_ups ADD COLUMN IF NOT EXISTS satisfaction_at timestamptz;
ALTER TABLE follow_ups DROP COLUMN IF EXISTS note;
-- whom an old case is about: its rating's staff member and window
UPDATE follow_ups f SET staff_id = r.staff_id, window_id = r.window_id
FROM ratings r WHERE r.id = f.rating_id AND f.staff_id IS NULL AND f.window_id IS NULL;
ALTER TABLE follow_ups DROP CONSTRAINT IF EXISTS follow_ups_one_subject;
ALTER TABLE follow_ups ADD CONSTRAINT follow_ups_one_subject CHECK (
    (kind = 'rating' AND rating_id IS NOT NULL AND complaint_id IS NULL)
    OR (kind = 'complaint' AND complaint_id IS NOT NULL AND rating_id IS NULL));
