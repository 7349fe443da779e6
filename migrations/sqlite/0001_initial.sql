-- Initial schema (SQLite). Mirrors migrations/postgres/0001_initial.sql.
-- Times are unix seconds, booleans are INTEGER 0/1, string lists are JSON text,
-- so both backends hold the same values.

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    login         TEXT    NOT NULL UNIQUE,
    inn           TEXT    NOT NULL UNIQUE,
    family_name   TEXT    NOT NULL,
    given_name    TEXT    NOT NULL,
    middle_name   TEXT,
    password_hash TEXT,
    ugns_code     TEXT,
    blocked       INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- No foreign key on parent_inn: a branch may be imported before its head organization.
CREATE TABLE organizations (
    inn        TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    ugns_code  TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    parent_inn TEXT,
    liquidated INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE memberships (
    org_inn TEXT    NOT NULL REFERENCES organizations (inn),
    user_id TEXT    NOT NULL REFERENCES users (id),
    role    TEXT    NOT NULL,
    blocked INTEGER NOT NULL DEFAULT 0,
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
    rotate_refresh_tokens     INTEGER NOT NULL,
    require_organization      INTEGER NOT NULL,
    disabled                  INTEGER NOT NULL DEFAULT 0,
    created_at                INTEGER NOT NULL
);

CREATE TABLE consents (
    user_id     TEXT    NOT NULL,
    client_id   TEXT    NOT NULL,
    account_key TEXT    NOT NULL,
    scopes      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE grants (
    id          TEXT    NOT NULL PRIMARY KEY,
    client_id   TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    account_key TEXT    NOT NULL,
    scopes      TEXT    NOT NULL,
    auth_time   INTEGER NOT NULL,
    amr         TEXT    NOT NULL,
    acr         TEXT    NOT NULL,
    session_id  TEXT,
    created_at  INTEGER NOT NULL,
    revoked     INTEGER NOT NULL DEFAULT 0
);
-- Blocking a user or signing out revokes all of the user's grants.
CREATE INDEX grants_user_id ON grants (user_id);

CREATE TABLE refresh_tokens (
    digest     TEXT    NOT NULL PRIMARY KEY,
    grant_id   TEXT    NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    rotated    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_grant_id ON refresh_tokens (grant_id);
-- purge_expired scans by expiry.
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE signing_keys (
    kid        TEXT    NOT NULL PRIMARY KEY,
    alg        TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    active     INTEGER NOT NULL
);

-- AUTOINCREMENT so ids are never reused: they order events that share a second.
CREATE TABLE audit_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    actor   TEXT,
    subject TEXT,
    detail  TEXT    NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
