-- The directory generation: one number that every change to clients, users, organizations
-- or memberships increases, whoever makes it (an idp process, the CLI, an operator's SQL).
-- Each idp process caches clients and users and polls this number (IDP_DIRECTORY_CACHE_MS)
-- to learn that another process changed them.
-- Mirrors migrations/sqlite/0005_directory_generation.sql.

CREATE TABLE directory_generation (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO directory_generation (id, value) VALUES (1, 0);

CREATE FUNCTION directory_changed() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE directory_generation SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_change_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();

CREATE TRIGGER organizations_change_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();

CREATE TRIGGER memberships_change_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON memberships
    FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();

CREATE TRIGGER clients_change_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON clients
    FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
