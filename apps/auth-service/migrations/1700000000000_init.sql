-- Up Migration
-- Token signing keys, shared by every auth-service replica. The newest key signs; all
-- keys still listed here verify (and are published as JWKS).
CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL,
  private_jwk jsonb NOT NULL,
  public_jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE signing_keys;
