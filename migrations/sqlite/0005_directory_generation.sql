-- The directory generation: one number that every change to clients, users, organizations
-- or memberships increases, whoever makes it (an idp process, the CLI, an operator's SQL).
-- Each idp process caches clients and users and polls this number (IDP_DIRECTORY_CACHE_MS)
-- to learn that another process changed them.
-- Mirrors migrations/postgres/0005_directory_generation.sql.

CREATE TABLE directory_generation (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO directory_generation (id, value) VALUES (1, 0);

CREATE TRIGGER users_insert_changes_directory AFTER INSERT ON users
BEGIN
    UPDATE directory_generation SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER users_update_changes_directory AFTER UPDATE ON users
BEGIN
    UPDATE directory_generation SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER users_delete_changes_directory AFTER DELETE ON users
BEGIN
    UPDATE directory_generation SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER organizations_insert_changes_directory AFTER INSERT ON organizations
BEGIN
    UPDATE directory_generation SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER organizations_update_changes_directory AFTER UPDATE ON organizations
BEGIN
    UPDATE directory_generation SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER organizations_delete_changes_directory AFTER DELETE ON organizations
BEGIN
    UPDATE directory_generation SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER memberships_insert_changes_directory AFTER INSERT ON memberships
BEGIN
    UPDATE directory_generation SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER memberships_update_changes_directory AFTER UPDATE ON memberships
BEGIN
    UPDATE directory_generation SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER memberships_delete_changes_directory AFTER DELETE ON memberships
BEGIN
    UPDATE directory_generation SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER clients_insert_changes_directory AFTER INSERT ON clients
BEGIN
    UPDATE directory_generation SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER clients_update_changes_directory AFTER UPDATE ON clients
BEGIN
    UPDATE directory_generation SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER clients_delete_changes_directory AFTER DELETE ON clients
BEGIN
    UPDATE directory_generation SET value = value + 1 WHERE id = 1;
END;
