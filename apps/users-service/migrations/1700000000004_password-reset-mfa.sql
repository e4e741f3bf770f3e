-- Up Migration
-- Single-use password reset tokens, only as hashes. A new link for a user deletes the user's
-- unused ones, so only the latest link works.
CREATE TABLE password_resets (
  token_hash bytea PRIMARY KEY,
  user_id uuid NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- TOTP second factor. The secret is sealed with the user's data key (user_keys), so erasing the
-- user leaves it unreadable; `last_step` is the last accepted 30 s step (each code works once).
CREATE TABLE mfa_totp (
  user_id uuid PRIMARY KEY,
  secret_sealed text NOT NULL,
  confirmed_at timestamptz,
  last_step bigint,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Recovery codes of an active factor, only as hashes, each usable once.
CREATE TABLE mfa_recovery_codes (
  code_hash bytea PRIMARY KEY,
  user_id uuid NOT NULL,
  used_at timestamptz
);
CREATE INDEX mfa_recovery_codes_user ON mfa_recovery_codes (user_id);

-- Down Migration
DROP TABLE mfa_recovery_codes;
DROP TABLE mfa_totp;
DROP TABLE password_resets;
