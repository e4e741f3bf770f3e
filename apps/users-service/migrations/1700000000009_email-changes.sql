-- Up Migration
-- Address changes asked for by the user, pending until the link sent to the new address is
-- followed. Tokens only as hashes: `confirm_hash` (sent to the new address) makes the change,
-- `cancel_hash` (sent to the old one) cancels it, or reverts it once made, until `cancel_expires_at`.
-- A new request replaces the user's earlier pending one; erasure deletes the user's rows.
CREATE TABLE email_changes (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL,
  -- The stream version of the EmailChangeRequested event: mail-service's request names it.
  request_version integer NOT NULL,
  old_email text NOT NULL,
  old_verified boolean NOT NULL,
  new_email text NOT NULL,
  confirm_hash bytea UNIQUE,
  confirm_expires_at timestamptz,
  cancel_hash bytea UNIQUE,
  cancel_expires_at timestamptz,
  confirmed_at timestamptz,
  closed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, request_version)
);
CREATE INDEX email_changes_user ON email_changes (user_id);

-- Down Migration
DROP TABLE email_changes;
