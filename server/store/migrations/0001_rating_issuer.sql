-- Every rating records which credential issued its ticket (CONTRACT §7): the
-- integrity signals look for staff rating tickets they issued themselves.
-- schema.sql has these columns for a new database; this adds them to an older one.
ALTER TABLE ratings ADD COLUMN IF NOT EXISTS issued_by_device integer REFERENCES devices(id);
ALTER TABLE ratings ADD COLUMN IF NOT EXISTS issued_by_staff integer REFERENCES staff(id);
UPDATE ratings r SET issued_by_device = t.issued_by_device, issued_by_staff = t.issued_by_staff
FROM tickets t WHERE t.id = r.ticket_id AND r.issued_by_device IS NULL AND r.issued_by_staff IS NULL;
