import { rpcErrorCodes, type ErrorCode } from '@um/contracts';
import { policyFor, type Rule } from '../access/policy.js';
import { HTTP_STATUS } from '../http/problem.js';
import type { RouteDef } from '../http/route.js';

const refusable = (rule: Rule) => rule.kind === 'admin' || rule.kind === 'self_or_admin';

/**
 * The error statuses a route can answer, derived from what it is: its input (a body can be malformed,
 * too large, of another media type or invalid; a query invalid; a path parameter names nothing), its
 * access rule under every `USER_DIRECTORY` setting, the errors the owners of its RPCs answer (contracts'
 * `rpcErrors`, for every RPC it declares), what every write can meet (an idempotency key still in flight, or reused with another
 * body) and what every forwarded call can meet (an internal error, no service, no answer in time).
 */
export function errorStatuses(def: RouteDef, method: string): number[] {
  const statuses = new Set<number>([500, 503, 504]);
  const code = (c: ErrorCode) => statuses.add(HTTP_STATUS[c]);
  if (def.body) for (const s of [400, 413, 415, 422]) statuses.add(s);
  if (def.query) code('invalid_argument');
  if (def.params) code('not_found');
  // An Idempotency-Key header that is not printable ASCII, or a body that is not a JSON object.
  if (method.toUpperCase() !== 'GET') code('bad_request');
  if (def.rpc.kind === 'write') {
    code('already_exists');
    code('invalid_argument');
  }
  const rules = [policyFor('all')[def.route], policyFor('admins')[def.route]];
  if (rules.some((r) => r.kind !== 'public')) code('unauthenticated');
  if (rules.some(refusable)) code('permission_denied');
  for (const rpc of [def.rpc, ...(def.alsoRpcs ?? [])]) {
    const owned = rpcErrorCodes(rpc.name);
    if (!owned) throw new Error(`${def.route}: the errors of ${rpc.name} are not listed in the contracts' rpcErrors`);
    for (const c of owned) code(c);
  }
  return [...statuses].sort((a, b) => a - b);
}
