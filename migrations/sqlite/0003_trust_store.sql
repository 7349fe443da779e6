-- The trust store of electronic-signature sign-in (D5): the certificate authorities whose
-- certificates we accept and the latest revocation list of each issuer.
-- Mirrors migrations/postgres/0003_trust_store.sql.

-- thumbprint: lowercase hex SHA-256 of `der`, so adding the same certificate twice is one
-- row. Names are RFC 4514 strings; times are Unix seconds; serial is hex.
CREATE TABLE trusted_cas (
    thumbprint TEXT    NOT NULL PRIMARY KEY CHECK (length(thumbprint) = 64),
    subject    TEXT    NOT NULL,
    issuer     TEXT    NOT NULL,
    serial     TEXT    NOT NULL,
    not_before INTEGER NOT NULL,
    not_after  INTEGER NOT NULL,
    der        BLOB    NOT NULL,
    added_at   INTEGER NOT NULL
);

-- One CRL per issuer: a newer one replaces the row. issuer_thumbprint is the trusted CA
-- whose key verified it; removing that CA removes its CRL.
CREATE TABLE crls (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer            TEXT    NOT NULL UNIQUE,
    issuer_thumbprint TEXT    REFERENCES trusted_cas (thumbprint) ON DELETE CASCADE,
    this_update       INTEGER NOT NULL,
    next_update       INTEGER,
    der               BLOB    NOT NULL,
    added_at          INTEGER NOT NULL
);
