-- Up Migration
-- Events already handled, by event id: a redelivered event sends nothing twice.
CREATE TABLE processed_events (
  event_id uuid PRIMARY KEY,
  type text NOT NULL,
  outcome text NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now()
);

-- Messages that can never be processed: terminated in JetStream, kept here for inspection.
CREATE TABLE dead_letters (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream_sequence bigint NOT NULL,
  subject text NOT NULL,
  payload text NOT NULL,
  error text NOT NULL,
  deliveries integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE dead_letters;
DROP TABLE processed_events;
