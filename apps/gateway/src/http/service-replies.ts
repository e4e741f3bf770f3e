import { z } from 'zod';

/** `GET /healthz`: the process is up. */
export const HealthReply = z.object({ status: z.literal('ok') });
export type HealthReply = z.infer<typeof HealthReply>;

const Check = z.enum(['ok', 'unavailable']);

/** `GET /readyz`: 200 when NATS is connected and both services answer, else 503 with the same shape. */
export const ReadinessReply = z.object({
  status: z.enum(['ok', 'unavailable']),
  checks: z.object({ nats: Check, users: Check, auth: Check }),
});
export type ReadinessReply = z.infer<typeof ReadinessReply>;
