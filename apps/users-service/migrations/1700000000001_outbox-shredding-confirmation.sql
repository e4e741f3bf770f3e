-- Up Migration
-- Per-user data keys. Personal data in event payloads is encrypted with its owner's key;
-- deleting the key leaves those payloads unreadable for good (crypto-shredding).
CREATE TABLE user_keys (
  user_id uuid PRIMARY KEY,
  data_key bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Single-use email confirmation tokens. Only hashes are stored: of the token, and of the
-- address it was issued for (a token for a former address is refused).
CREATE TABLE email_confirmations (
  token_hash bytea PRIMARY KEY,
  user_id uuid NOT NULL,
  email_hash bytea NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_confirmations_user ON email_confirmations (user_id);

-- The relay's durable position in the event table (the event table is the outbox). Positions
-- are (transaction id, global position): every transaction below the snapshot's xmin is
-- finished, so nothing can later appear before a checkpoint.
CREATE TABLE relay_checkpoints (
  name text PRIMARY KEY,
  transaction_id xid8 NOT NULL,
  global_position bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_tx_position ON events (transaction_id, global_position);

-- Wake the relay when events commit (NOTIFY is delivered at commit); polling is the safety net.
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_TABLE_SCHEMA || '_events', '');
  RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION events_notify();

-- Down Migration
DROP TRIGGER events_notify ON events;
DROP FUNCTION events_notify();
DROP INDEX events_tx_position;
DROP TABLE relay_checkpoints;
DROP TABLE email_confirmations;
DROP TABLE user_keys;
