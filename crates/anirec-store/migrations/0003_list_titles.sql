-- The title an imported export gave an anime the catalogue lacks (null otherwise): the list
-- shows it and exports it back until a catalogue update brings the anime in.
ALTER TABLE list_entries ADD COLUMN title TEXT;
