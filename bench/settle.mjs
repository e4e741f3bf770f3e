// Between runs: wait until the database has finished what the previous run left behind. A driver
// stops at its deadline, but the queries it started go on: at a million users a baseline's offset
// page takes 5–8 s, so a fixed pause would let them run into the next side's measurement.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** `settle()`: resolves once no other session of the database at `url` has a query running (at most `maxSeconds`), plus a short pause. */
export function settler(url, maxSeconds = 60) {
  return async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (let i = 0; i < maxSeconds * 10; i++) {
        const { rows } = await client.query(
          `SELECT count(*)::int AS busy FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()`,
        );
        if (rows[0].busy === 0) break;
        await sleep(100);
      }
    } finally {
      await client.end();
    }
    await sleep(500);
  };
}
