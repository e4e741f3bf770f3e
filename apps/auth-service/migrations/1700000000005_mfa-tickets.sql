-- Up Migration
-- Second-step tickets: a right password with a second factor active gets one instead of tokens.
-- Only the hash is kept; a ticket is bound to its account, short-lived and spent by its login.
CREATE TABLE mfa_tickets (
  ticket_hash bytea PRIMARY KEY,
  user_id uuid NOT NULL,
  -- When the password was checked: the session opened later counts from then (a password
  -- change in between refuses it, as for any login).
  verified_at timestamptz NOT NULL,
  device_id text,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX mfa_tickets_user ON mfa_tickets (user_id);

-- Down Migration
DROP TABLE mfa_tickets;
