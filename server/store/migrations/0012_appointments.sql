-- 预约, 延时服务 and 帮代办 (CONTRACT §12) on a database made before them: the
-- tables are schema.sql's (applied first at every start); these are the
-- columns and the category an older database lacks.
ALTER TABLE halls ADD COLUMN IF NOT EXISTS open_days text NOT NULL DEFAULT 'workdays'
    CHECK (open_days IN ('workdays', 'all'));
ALTER TABLE tickets DROP CONSTRAINT IF EXISTS tickets_category_check;
ALTER TABLE tickets ADD CONSTRAINT tickets_category_check CHECK (category IN
    ('normal', 'elderly', 'disabled', 'pregnant', 'military', 'enterprise', 'appointment'));
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS proxy_id_hash bytea;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS proxy_id_masked text;
ALTER TABLE services ADD COLUMN IF NOT EXISTS appointments boolean NOT NULL DEFAULT false;
ALTER TABLE services ADD COLUMN IF NOT EXISTS slot_minutes integer NOT NULL DEFAULT 30 CHECK (slot_minutes > 0);
ALTER TABLE services ADD COLUMN IF NOT EXISTS slot_capacity integer NOT NULL DEFAULT 2 CHECK (slot_capacity > 0);
