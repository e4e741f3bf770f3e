-- Up Migration
-- Server secrets (HMAC keys for throttle keys and device cookies), made on first start; sealed under
-- SIGNING_KEY_KEK like the signing keys when it is set, else in clear.
CREATE TABLE server_secrets (
  name text PRIMARY KEY,
  secret bytea,
  secret_sealed jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((secret IS NULL) <> (secret_sealed IS NULL))
);

-- Throttling counts failed password checks only: an attempt is claimed before its check ("pending",
-- so a burst of guesses cannot all slip through) and settled after it. Keys are HMACs now, and rows
-- that belong to a user name it, so they go when the user is erased.
DELETE FROM login_throttle;
ALTER TABLE login_throttle
  ADD COLUMN pending integer NOT NULL DEFAULT 0,
  ADD COLUMN pending_at timestamptz,
  ADD COLUMN user_id uuid;
CREATE INDEX login_throttle_user ON login_throttle (user_id) WHERE user_id IS NOT NULL;

-- Two tabs refreshing at once: the spent token keeps its successor, encrypted under a key derived
-- from the spent token itself (only its holder can read it back), for the reuse interval.
ALTER TABLE refresh_tokens ADD COLUMN successor_enc bytea;

-- Down Migration
ALTER TABLE refresh_tokens DROP COLUMN successor_enc;
DROP INDEX login_throttle_user;
ALTER TABLE login_throttle DROP COLUMN user_id, DROP COLUMN pending_at, DROP COLUMN pending;
DROP TABLE server_secrets;
