-- Up Migration
-- An event that sends several emails records each one, so a retry after a partial failure sends
-- only what is missing.
CREATE TABLE sent_parts (
  event_id uuid NOT NULL,
  part text NOT NULL,
  sent_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, part)
);

-- Down Migration
DROP TABLE sent_parts;
