-- 一次性告知: a service's documents to bring and where in the hall it is handled,
-- from the hall file's [[services]] materials and where. schema.sql has these
-- columns for a new database; this adds them to an older one.
ALTER TABLE services ADD COLUMN IF NOT EXISTS materials text[] NOT NULL DEFAULT '{}';
ALTER TABLE services ADD COLUMN IF NOT EXISTS place text;
