-- A client's access tokens may be signed with another algorithm than its ID tokens: the
-- ID token's is the relying party's choice (id_token_signed_response_alg), the access
-- token's is the resource servers' (RFC 9068 §2.1). Existing clients keep one algorithm
-- for both.
ALTER TABLE clients RENAME COLUMN token_alg TO id_token_alg;
ALTER TABLE clients ADD COLUMN access_token_alg TEXT NOT NULL DEFAULT 'RS256';
UPDATE clients SET access_token_alg = id_token_alg;
