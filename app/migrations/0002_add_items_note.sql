-- A new, nullable column with a default: code that does not know it keeps inserting and reading items,
-- code that needs it (the generation with REQUIRED_SCHEMA=0002) finds it.
ALTER TABLE items ADD COLUMN note text NOT NULL DEFAULT '';
