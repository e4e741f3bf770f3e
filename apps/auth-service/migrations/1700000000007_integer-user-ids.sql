-- Up Migration
-- Users are named by their integer id now (users-service's migration 1700000000007). Sessions and
-- password epochs of existing users keep working: the UUID they named the user by (the user's
-- internal stream key) stays as `legacy_user_id` until auth-service learns the user's id from
-- users-service (`users.legacy_ids`): at start, in the background, and at a legacy session's next
-- refresh at the latest (see src/application/legacy-users.ts). Until then the row names the user by
-- the UUID only; an id is never guessed here.
ALTER TABLE sessions RENAME COLUMN user_id TO legacy_user_id;
ALTER TABLE sessions ALTER COLUMN legacy_user_id DROP NOT NULL;
ALTER TABLE sessions ADD COLUMN user_id bigint;
ALTER TABLE sessions ADD CONSTRAINT sessions_names_a_user CHECK (user_id IS NOT NULL OR legacy_user_id IS NOT NULL);
DROP INDEX sessions_user_active;
CREATE INDEX sessions_user_active ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_legacy_user ON sessions (legacy_user_id) WHERE legacy_user_id IS NOT NULL;

-- Password epochs: the old rows wait in their own table until their user's id is known.
ALTER TABLE user_security RENAME TO legacy_user_security;
ALTER TABLE legacy_user_security RENAME COLUMN user_id TO legacy_user_id;
ALTER TABLE legacy_user_security RENAME CONSTRAINT user_security_pkey TO legacy_user_security_pkey;
CREATE TABLE user_security (
  user_id bigint PRIMARY KEY,
  sessions_valid_after timestamptz NOT NULL
);

-- Short-lived rows go rather than wait: throttle counters (their keys were HMACs of the UUID, so they
-- would never match again), second-step tickets (minutes), recorded outcomes of writes (their replies
-- name users by UUID; a repeat after the upgrade acts anew).
DELETE FROM login_throttle;
ALTER TABLE login_throttle ALTER COLUMN user_id TYPE bigint USING NULL;
DELETE FROM mfa_tickets;
ALTER TABLE mfa_tickets ALTER COLUMN user_id TYPE bigint USING NULL;
DELETE FROM idempotency_keys;

-- Down Migration
-- Not reversible: integer ids have been handed out in tokens and sessions.
DO $$ BEGIN RAISE EXCEPTION 'user ids cannot go back to UUIDs'; END $$;
