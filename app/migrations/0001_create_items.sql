-- The demo app's first table. Migrations are backwards compatible (a minor upgrade): the generation
-- serving while a migration runs keeps working with the migrated schema.
CREATE TABLE items (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO items (name) VALUES ('first item');
