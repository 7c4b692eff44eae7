-- A service's typical handling time, from the hall file's [[services]]
-- typical_minutes: the wait estimate uses it until the service has history
-- (NULL = a third of time_limit_minutes). schema.sql has this column for a new
-- database; this adds it to an older one.
ALTER TABLE services ADD COLUMN IF NOT EXISTS typical_minutes integer CHECK (typical_minutes > 0);
