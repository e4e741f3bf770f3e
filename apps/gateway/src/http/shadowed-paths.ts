import type { RouteDef } from './route.js';

/** The parameters `pattern` (`/users/:user_id`) captures from `path` (`/users/search`), or undefined when it does not match. */
function capture(pattern: string, path: string): Record<string, string> | undefined {
  const [want, got] = [pattern.split('/'), path.split('/')];
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of want.entries()) {
    if (segment.startsWith(':')) params[segment.slice(1)] = got[i]!;
    else if (segment !== got[i]) return undefined;
  }
  return params;
}

/**
 * Fixed paths that a parameter route would otherwise take for a parameter it cannot accept:
 * `DELETE /users/search` matches `DELETE /users/:user_id`, but `search` names no user, so that
 * request is about `/users/search`, which has no DELETE (405), not about a user (404). `/users/me`
 * is not among them: `me` is a user (the caller), so `DELETE /users/me` is a real route.
 */
export function shadowedFixedPaths(routes: RouteDef[], paths: Iterable<string>): string[] {
  const withParams = routes.filter((r) => r.params);
  return [...paths].filter((path) => {
    if (path.includes(':')) return false;
    return withParams.some((r) => {
      const params = capture(r.route.split(' ')[1]!, path);
      if (!params) return false;
      if (params.user_id === 'me') params.user_id = '1';
      return !r.params!.safeParse(params).success;
    });
  });
}
