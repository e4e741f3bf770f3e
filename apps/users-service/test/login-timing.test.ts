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
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const input = newUser();
  await registerUser(fx.deps, RegisterUser.parse(input), meta);
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const started = performance.now();
  await Promise.all(Array.from({ length: 16 }, () => verifyCredentials(fx.deps, { username: input.username, password: input.password })));
  const elapsed = performance.now() - started;
  histogram.disable();
  // 16 checks at ~55 ms each took a while, yet the loop never stalled for anything like that long.
  expect(elapsed).toBeGreaterThan(200);
  expect(histogram.max / 1e6).toBeLessThan(60);
});
