-- Up Migration
-- Fixed-window counters shared by every replica (registrations per client address).
CREATE TABLE rate_limits (
  key text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  count integer NOT NULL
);

-- Down Migration
DROP TABLE rate_limits;
