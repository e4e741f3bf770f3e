-- Up Migration
-- Rate-limit keys are HMACs under a server secret now (no address or name in clear, nothing a
-- dictionary reverses); the secret is made on first start. Old clear keys go.
CREATE TABLE server_secrets (
  name text PRIMARY KEY,
  secret bytea,
  secret_sealed jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((secret IS NULL) <> (secret_sealed IS NULL))
);
DELETE FROM rate_limits;

-- Down Migration
DROP TABLE server_secrets;
