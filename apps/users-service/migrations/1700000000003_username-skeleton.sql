-- Up Migration
-- The UTS #39 confusable skeleton of each username: a look-alike of a taken name is refused like the
-- name itself. Filled by the projection, and for rows older than this column by users-service at start
-- (the skeleton needs Unicode's table, so it is computed in JS). NULL marks a row not yet filled, or a
-- grandfathered look-alike of an older account: a unique index allows any number of NULLs.
ALTER TABLE users ADD COLUMN username_skeleton text;
CREATE UNIQUE INDEX users_username_skeleton_uniq ON users (username_skeleton);
-- Lets the start-up backfill find the rows to fill without reading the whole table.
CREATE INDEX users_username_skeleton_missing ON users (created_at, id) WHERE username_skeleton IS NULL;

-- Down Migration
DROP INDEX users_username_skeleton_missing;
DROP INDEX users_username_skeleton_uniq;
ALTER TABLE users DROP COLUMN username_skeleton;
