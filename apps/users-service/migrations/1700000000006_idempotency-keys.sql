-- Up Migration
-- Idempotency keys of write RPCs with their recorded outcome (see platform/src/idempotency.ts).
-- The primary key is also the lock that makes a concurrent repeat wait for the first.
CREATE TABLE idempotency_keys (
  scope text NOT NULL,
  key text NOT NULL,
  fingerprint text NOT NULL,
  reply bytea NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
-- Its HMAC key is the server secret 'idempotency' (server_secrets, made on first start).

-- Down Migration
DROP TABLE idempotency_keys;
