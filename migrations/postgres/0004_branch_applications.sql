-- Branch applications (R10, D4): a branch's head or accountant, registered by electronic
-- signature, asks to add the branch account; the head of the head organization decides.
-- Adds the kind 'branch' and the column head_inn (the head organization's INN).
-- Mirrors migrations/sqlite/0004_branch_applications.sql.

ALTER TABLE applications ADD COLUMN head_inn TEXT;

-- 0002 declared the kind check on the column, so PostgreSQL named it applications_kind_check.
ALTER TABLE applications DROP CONSTRAINT applications_kind_check;
ALTER TABLE applications ADD CONSTRAINT applications_kind_check
    CHECK (kind IN ('person', 'legal_entity', 'link_request', 'branch'));
-- A branch application always names the branch, its head organization and the user whose
-- account gets the branch.
ALTER TABLE applications ADD CONSTRAINT applications_branch_check
    CHECK (kind <> 'branch'
           OR (org_inn IS NOT NULL AND head_inn IS NOT NULL AND existing_user_id IS NOT NULL));

-- «Филиалы головной организации» lists the pending branch applications of the
-- organizations a user heads.
CREATE INDEX applications_pending_head ON applications (head_inn) WHERE status = 'pending';
