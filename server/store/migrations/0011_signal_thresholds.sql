-- The hall file's [signals] (the integrity signals' thresholds) on the hall's
-- row; schema.sql has it, with its comment, for a new database.
ALTER TABLE halls ADD COLUMN IF NOT EXISTS signal_thresholds jsonb NOT NULL DEFAULT '{}'::jsonb;
