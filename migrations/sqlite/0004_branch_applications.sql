-- Branch applications (R10, D4): a branch's head or accountant, registered by electronic
-- signature, asks to add the branch account; the head of the head organization decides.
-- Adds the kind 'branch' and the column head_inn (the head organization's INN).
-- Mirrors migrations/postgres/0004_branch_applications.sql.

-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt (nothing
-- references applications, so dropping the old table breaks no foreign key). Numbers are
-- copied as they are and the AUTOINCREMENT counter carried over: a number once handed out
-- is never reused.
CREATE TABLE applications_new (
    number           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT    NOT NULL
                     CHECK (kind IN ('person', 'legal_entity', 'link_request', 'branch')),
    ugns_code        TEXT    NOT NULL,
    person_inn       TEXT    NOT NULL,
    full_name        TEXT    NOT NULL,
    address          TEXT    NOT NULL,
    org_inn          TEXT,
    org_name         TEXT,
    password_hash    TEXT,
    existing_user_id TEXT    REFERENCES users (id),
    status           TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'approved', 'rejected')),
    reject_reason    TEXT,
    login            TEXT,
    decided_by       TEXT,
    decided_at       INTEGER,
    created_at       INTEGER NOT NULL,
    head_inn         TEXT,
    -- A branch application always names the branch, its head organization and the user
    -- whose account gets the branch.
    CHECK (kind <> 'branch'
           OR (org_inn IS NOT NULL AND head_inn IS NOT NULL AND existing_user_id IS NOT NULL))
);

INSERT INTO applications_new (number, kind, ugns_code, person_inn, full_name, address,
    org_inn, org_name, password_hash, existing_user_id, status, reject_reason, login,
    decided_by, decided_at, created_at)
SELECT number, kind, ugns_code, person_inn, full_name, address, org_inn, org_name,
    password_hash, existing_user_id, status, reject_reason, login, decided_by, decided_at,
    created_at
FROM applications;

-- The copy set the new counter to the highest number present; the old counter can be
-- higher only if rows were removed, and then it wins.
UPDATE sqlite_sequence
SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'applications'))
WHERE name = 'applications_new'
  AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'applications');
INSERT INTO sqlite_sequence (name, seq)
SELECT 'applications_new', seq FROM sqlite_sequence
WHERE name = 'applications'
  AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'applications_new');

DROP TABLE applications;
ALTER TABLE applications_new RENAME TO applications;

-- The indexes of 0002, dropped with the old table.
CREATE INDEX applications_status_ugns ON applications (status, ugns_code);
CREATE INDEX applications_pending_person ON applications (person_inn) WHERE status = 'pending';
-- «Филиалы головной организации» lists the pending branch applications of the
-- organizations a user heads.
CREATE INDEX applications_pending_head ON applications (head_inn) WHERE status = 'pending';
