-- Up Migration
-- Sessions may only be opened from a password check made after the user's last password change.
CREATE TABLE user_security (
  user_id uuid PRIMARY KEY,
  sessions_valid_after timestamptz NOT NULL
);

-- Throttle keys are hashes of the login name now: no personal data in clear.
DELETE FROM login_throttle;

-- Down Migration
DROP TABLE user_security;
