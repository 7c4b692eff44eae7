-- Data retention (issue 13; docs/operating.md, "Data retention"). The table of
-- the hall file's [retention] is schema.sql's (applied first at every start);
-- this lets an older database's bookings lose their code, ID number and masked
-- number once they are old, as a ticket's ID and phone numbers may.
ALTER TABLE appointments
    ALTER COLUMN code_hash DROP NOT NULL,
    ALTER COLUMN id_hash DROP NOT NULL,
    ALTER COLUMN id_masked DROP NOT NULL;
