import { RegisterUser } from '@um/contracts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registerUser } from '../src/application/register-user.js';
import { verifyCredentials } from '../src/application/credentials.js';
import { PasswordHasher } from '../src/password-hasher.js';
import { meta, newUser, usersFixture } from './setup.js';

let fx: Awaited<ReturnType<typeof usersFixture>>;
beforeAll(async () => {
  fx = await usersFixture();
  // A realistic cost, so the bcrypt work (not noise) decides the timing.
  fx.deps.hasher = new PasswordHasher(10);
});
afterAll(() => fx?.close());

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timeFailure(username: string): Promise<number> {
  const started = performance.now();
  await verifyCredentials(fx.deps, { username, password: 'definitely wrong' }).catch(() => undefined);
  return performance.now() - started;
}

it('takes about as long to refuse an unknown user as a wrong password', async () => {
  const input = newUser();
  await registerUser(fx.deps, RegisterUser.parse(input), meta);
  await timeFailure('warm_up_unknown');
  const wrong: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 8; i++) {
    wrong.push(await timeFailure(input.username));
    unknown.push(await timeFailure(`nobody_${i}_here`));
  }
  const ratio = median(unknown) / median(wrong);
  expect(median(wrong)).toBeGreaterThan(20); // bcrypt really ran
  expect(ratio).toBeGreaterThan(0.6);
  expect(ratio).toBeLessThan(1.6);
});

it('keeps the event loop free during a burst of password checks', async () => {
  const input = newUser();
  await registerUser(fx.deps, RegisterUser.parse(input), meta);
  // Count the event loop's turns while 16 checks run: hashing on the loop itself would leave it a
  // turn or so per check; off the loop (bcrypt's thread pool) it turns freely meanwhile. A count,
  // not a wall-clock bound, so a busy machine cannot fail it (the timings are the bench's).
  let turns = 0;
  let running = true;
  const spin = () => {
    turns++;
    if (running) setImmediate(spin);
  };
  setImmediate(spin);
  await Promise.all(Array.from({ length: 16 }, () => verifyCredentials(fx.deps, { username: input.username, password: input.password })));
  running = false;
  expect(turns).toBeGreaterThan(16 * 10);
});
