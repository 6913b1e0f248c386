-- V3: record where a click came from (the typo below is the incident)
ALTER TABLE clicks ADD COLUMN source TEXT;
UPDATE clicks SET source = referer;
