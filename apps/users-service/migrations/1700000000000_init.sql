-- Up Migration
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- The event store: append-only, one stream per user, a global order for readers.
CREATE TABLE events (
  global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  stream_id uuid NOT NULL,
  stream_version integer NOT NULL CHECK (stream_version > 0),
  type text NOT NULL,
  schema_version smallint NOT NULL DEFAULT 1,
  payload jsonb NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  recorded_at timestamptz NOT NULL,
  -- lets readers stay below the oldest open transaction, so late commits are never skipped
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  UNIQUE (stream_id, stream_version)
);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the event store is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_append_only();

-- The users projection, written in the same transaction as the events it reflects.
CREATE TABLE users (
  id uuid PRIMARY KEY,
  username text NOT NULL,
  username_key text NOT NULL,
  email text NOT NULL,
  email_key text NOT NULL,
  config jsonb NOT NULL,
  role text NOT NULL CHECK (role IN ('user', 'admin')),
  email_verified boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  version integer NOT NULL
);
CREATE UNIQUE INDEX users_username_key_uniq ON users (username_key);
CREATE UNIQUE INDEX users_email_key_uniq ON users (email_key);
-- Substring search (ILIKE '%x%') on a million rows needs trigram indexes.
CREATE INDEX users_username_trgm ON users USING gin (username public.gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (email public.gin_trgm_ops);
CREATE INDEX users_fio_trgm ON users USING gin ((config ->> 'fio') public.gin_trgm_ops);
CREATE INDEX users_tags_gin ON users USING gin ((config -> 'tags') jsonb_path_ops);
CREATE INDEX users_birthday ON users ((config ->> 'birthday'));

-- Password hashes live apart from events so no event payload ever carries one.
CREATE TABLE credentials (
  user_id uuid PRIMARY KEY,
  password_hash text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE credentials;
DROP TABLE users;
DROP TABLE events;
DROP FUNCTION events_append_only();
