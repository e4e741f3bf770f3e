#!/usr/bin/env node
// What verifying the forwarded access token costs a service per request (issue 18): the same RPC
// (users.get answered by a handler that touches no database, so only the transport and the check
// are timed) over real NATS, without a verifier (x-actor-id taken as sent, as before) and with one
// (x-access-token verified: EdDSA once per token, then the remembered claims and the revocation
// check). Prints numbers; asserts nothing. Needs NATS_URL and a built tree (npm run build).
//   NATS_URL=nats://127.0.0.1:4222 npm run bench:token-check -w @um/users-service
import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { Rpcs, TOKEN } from '@um/contracts';
import { connectNats, createLogger, RpcClient, serveRpc, TokenVerifier } from '@um/platform';

const N = Number(process.env.BENCH_REQUESTS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const log = createLogger('bench', 'warn');
const config = { NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' };

// An auth-service-like key and tokens, signed with node:crypto (the verifier is the real one).
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const kid = 'bench-key';
const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: TOKEN.algorithm, use: 'sig' }] };
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const USER_ID = 4242;
function token() {
  const now = Date.now() / 1000;
  const head = b64({ alg: TOKEN.algorithm, typ: TOKEN.type, kid });
  const body = b64({
    sub: String(USER_ID),
    role: 'admin',
    sid: randomUUID(),
    iat: now,
    ver: 1,
    exp: Math.floor(now) + 900,
    jti: randomUUID(),
    iss: TOKEN.issuer,
    aud: TOKEN.audience,
  });
  return `${head}.${body}.${sign(null, Buffer.from(`${head}.${body}`), privateKey).toString('base64url')}`;
}
const verifier = () => new TokenVerifier(async () => jwks, { isRevoked: () => false }, log);

const user = (id) => ({
  id,
  username: 'bench_user',
  email: 'bench@example.com',
  config: { fio: 'Bench User', birthday: '1990-01-02', tags: [] },
  role: 'user',
  email_verified: true,
  created_at: new Date(0).toISOString(),
  updated_at: new Date(0).toISOString(),
});

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const us = (ms) => `${Math.round(ms * 1000)} µs`;

/** N calls, CONCURRENCY at a time: latency quantiles, throughput and this process's CPU per call. */
async function run(label, call) {
  for (let i = 0; i < 200; i++) await call(i); // warm-up
  const times = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const i = next++;
        const s = performance.now();
        await call(i);
        times.push(performance.now() - s);
      }
    }),
  );
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      label,
      p50: us(quantile(times, 0.5)),
      p99: us(quantile(times, 0.99)),
      'req/s': Math.round((N / wall) * 1000),
      'cpu/req': us((cpu.user + cpu.system) / 1000 / N),
    }),
  );
}

// The verifier alone, in this process: a new token each time (EdDSA) and the same token again (CPU time per call).
{
  const v = verifier();
  await v.warmUp();
  const timed = async (tokens) => {
    const cpu0 = process.cpuUsage();
    for (const t of tokens) await v.verify(t);
    const cpu = process.cpuUsage(cpu0);
    return us((cpu.user + cpu.system) / 1000 / tokens.length);
  };
  const one = token();
  console.log(
    JSON.stringify({
      label: 'TokenVerifier.verify alone, CPU per call',
      'first sight of a token (EdDSA)': await timed(Array.from({ length: N }, token)),
      'a token seen before': await timed(Array.from({ length: N }, () => one)),
    }),
  );
}

const nc = await connectNats(config, 'bench-token-check', log);
/** Unused tokens, for the run that sends a new one every call (signed beforehand, so signing is not timed). */
let unused = [];
const same = token();
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Rounds alternate the three, so a busy machine's noise falls on each alike.
for (let round = 1; round <= ROUNDS; round++)
  for (const [label, tokens, tokenFor] of [
    ['x-actor-id only, no verifier (before)', undefined, () => undefined],
    ['verified token, same token every call', verifier(), () => same],
    ['verified token, a new token every call', verifier(), () => unused.pop()],
  ]) {
    const namespace = `bench_${randomBytes(4).toString('hex')}`;
    const server = serveRpc(nc, { namespace, service: 'users', log, ...(tokens ? { tokens } : {}) }, Rpcs.users.get, async (req) => user(req.user_id));
    await nc.flush();
    unused = Array.from({ length: N + 200 }, token);
    const client = new RpcClient(nc, namespace, 10_000);
    await run(`round ${round}: ${label}`, () => {
      const accessToken = tokenFor();
      return client.call(Rpcs.users.get, { user_id: USER_ID }, { requestId: 'bench', actorId: String(USER_ID), ...(accessToken ? { accessToken } : {}) });
    });
    server.unsubscribe();
  }
console.log(`token size: ${token().length} bytes in the x-access-token header of every call made for a signed-in user`);
await nc.drain();
