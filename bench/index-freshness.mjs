// Do indexes filled row by row by registrations stay as fast as freshly built ones? The selective
// searches, through users-service's own query code, on the indexes as the seed and the writes after
// it left them, then on the same indexes rebuilt (REINDEX), the same queries in the same order, each
// pass after a warm-up pass. The ratio of the two (mean time per search) is the answer.
import { loadProfile } from '@um/platform';
import { SearchUsersRequest } from '@um/contracts';
import { searchUsers } from '@um/users-service/dist/application/queries.js';
import pg from 'pg';
import { pathsFor } from './load.mjs';
import { quantile } from './paced.mjs';

// users-service's defaults (MAX_PAGE_SIZE, EXACT_COUNT_LIMIT).
const PAGING = { maxPageSize: 1000, exactCountLimit: 1000 };
const round2 = (v) => Math.round(v * 100) / 100;

/** `concurrency` searches at a time, each timed: `{ meanMs, p50Ms, p99Ms, perSecond }`. */
async function pass(pool, requests, profile, concurrency) {
  const times = [];
  let k = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (k < requests.length) {
        const request = requests[k++];
        const t = performance.now();
        await searchUsers(pool, request, profile, PAGING);
        times.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return {
    meanMs: round2(times.reduce((a, b) => a + b, 0) / times.length),
    p50Ms: round2(quantile(times, 0.5)),
    p99Ms: round2(quantile(times, 0.99)),
    perSecond: Math.round(requests.length / seconds),
  };
}

/** `{ queries, asLeft, rebuilt, reindexSeconds, ratio }`: ratio = mean as left / mean rebuilt (≤ 1.2 is the target). */
export async function indexFreshness({ url, schema, n, queries = 4000, concurrency = 4 }) {
  const next = pathsFor('selective', n);
  const requests = Array.from({ length: queries }, () => SearchUsersRequest.parse(Object.fromEntries(new URL(next(), 'http://x').searchParams)));
  const profile = loadProfile(undefined);
  const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}`, max: concurrency });
  try {
    await pass(pool, requests, profile, concurrency);
    const asLeft = await pass(pool, requests, profile, concurrency);
    const t = performance.now();
    await pool.query(`SET maintenance_work_mem = '512MB'; REINDEX TABLE users`);
    const reindexSeconds = Math.round((performance.now() - t) / 100) / 10;
    await pass(pool, requests, profile, concurrency);
    const rebuilt = await pass(pool, requests, profile, concurrency);
    return { queries, concurrency, asLeft, rebuilt, reindexSeconds, ratio: round2(asLeft.meanMs / rebuilt.meanMs) };
  } finally {
    await pool.end();
  }
}
