-- Tickets one kiosk device may issue per minute (CONTRACT §3, the hall file's
-- [policy] kiosk_tickets_per_minute; 0 = no limit). schema.sql has this column
-- for a new database; this adds it to an older one.
ALTER TABLE halls ADD COLUMN IF NOT EXISTS kiosk_tickets_per_minute integer NOT NULL DEFAULT 30
    CHECK (kiosk_tickets_per_minute >= 0);
