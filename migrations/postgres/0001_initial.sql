-- Initial schema (PostgreSQL). Mirrors migrations/sqlite/0001_initial.sql.
-- Times are unix seconds (BIGINT) and string lists are JSON text, so both backends hold
-- the same values. Tables are created unqualified: they land in the connection's
-- search_path schema, which lets each test (or tenant) use its own schema.

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    login         TEXT    NOT NULL CONSTRAINT users_login_key UNIQUE,
    inn           TEXT    NOT NULL CONSTRAINT users_inn_key UNIQUE,
    family_name   TEXT    NOT NULL,
    given_name    TEXT    NOT NULL,
    middle_name   TEXT,
    password_hash TEXT,
    ugns_code     TEXT,
    blocked       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL
);

-- No foreign key on parent_inn: a branch may be imported before its head organization.
CREATE TABLE organizations (
    inn        TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    ugns_code  TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    parent_inn TEXT,
    liquidated BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE memberships (
    org_inn TEXT    NOT NULL REFERENCES organizations (inn),
    user_id TEXT    NOT NULL REFERENCES users (id),
    role    TEXT    NOT NULL,
    blocked BOOLEAN NOT NULL DEFAULT FALSE,
    comment TEXT,
    PRIMARY KEY (org_inn, user_id)
);
-- Accounts are listed per user at every sign-in.
CREATE INDEX memberships_user_id ON memberships (user_id);

CREATE TABLE clients (
    id                        TEXT    NOT NULL PRIMARY KEY,
    name                      TEXT    NOT NULL,
    secret_digest             TEXT,
    redirect_uris             TEXT    NOT NULL,
    post_logout_redirect_uris TEXT    NOT NULL,
    auth_method               TEXT    NOT NULL,
    grant_types               TEXT    NOT NULL,
    scopes                    TEXT    NOT NULL,
    token_alg                 TEXT    NOT NULL,
    rotate_refresh_tokens     BOOLEAN NOT NULL,
    require_organization      BOOLEAN NOT NULL,
    disabled                  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at                BIGINT  NOT NULL
);

CREATE TABLE consents (
    user_id     TEXT   NOT NULL,
    client_id   TEXT   NOT NULL,
    account_key TEXT   NOT NULL,
    scopes      TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE grants (
    id          TEXT    NOT NULL PRIMARY KEY,
    client_id   TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    account_key TEXT    NOT NULL,
    scopes      TEXT    NOT NULL,
    auth_time   BIGINT  NOT NULL,
    amr         TEXT    NOT NULL,
    acr         TEXT    NOT NULL,
    session_id  TEXT,
    created_at  BIGINT  NOT NULL,
    revoked     BOOLEAN NOT NULL DEFAULT FALSE
);
-- Blocking a user or signing out revokes all of the user's grants.
CREATE INDEX grants_user_id ON grants (user_id);

CREATE TABLE refresh_tokens (
    digest     TEXT    NOT NULL PRIMARY KEY,
    grant_id   TEXT    NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    expires_at BIGINT  NOT NULL,
    rotated    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX refresh_tokens_grant_id ON refresh_tokens (grant_id);
-- purge_expired scans by expiry.
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE signing_keys (
    kid        TEXT    NOT NULL PRIMARY KEY,
    alg        TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    active     BOOLEAN NOT NULL
);

-- The id orders events that share a second.
CREATE TABLE audit_events (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      BIGINT NOT NULL,
    kind    TEXT   NOT NULL,
    actor   TEXT,
    subject TEXT,
    detail  JSONB  NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
