import { isSecretKey, maskEmail, maskInText, personalMasker } from '@um/platform';

/** How the access log shows a URL: personal values masked (`masked`, `off`) or as sent (`full`); secrets redacted in every mode. */
type UrlMode = 'masked' | 'full';

/** Query parameters that carry secrets (links with one-time tokens), besides every key `isSecretKey` names. */
const SECRET_QUERY = /^(token|access_token|refresh_token|code|password)$/i;

/** Query keys whose values name no one (paging, flags): shown as sent. Any other key's value is masked, an unknown key's too. */
const PLAIN_QUERY = /^(limit|offset|cursor|all)$/;

/** What a route parameter may show as sent: an id or `me`. Anything else in its place (a name, an address) is masked. */
const PLAIN_PARAM = /^(\d{1,20}|me)$/;

/** A path segment as the client meant it (`alice%40example.com` is `alice@example.com`), or as it is when it decodes to nothing valid. */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A value of unknown meaning: only its first character, and an address's domain. */
const maskUnknown = (text: string): string => (text === '' ? text : maskEmail(text));

/**
 * The path with what no route declares masked. Of a matched route (`/users/:user_id`) the literal
 * segments and ids are kept, any other parameter value (a name, an address) is masked. Of a path no
 * route matched (a 404, where a mistyped username or address ends up; or a body refused before
 * routing) only the segments some route spells out (`literals`: `users`, `search`, …) are kept.
 */
function loggablePath(pathname: string, pattern: string | undefined, literals: ReadonlySet<string>): string {
  const segments = pathname.split('/');
  if (pattern === undefined) return segments.map((s) => (literals.has(s) ? s : maskUnknown(decoded(s)))).join('/');
  const shape = pattern.split('/');
  return segments
    .map((segment, i) => {
      const declared = shape[i];
      const literal = declared !== undefined && !declared.includes(':') && !declared.includes('*');
      return literal || PLAIN_PARAM.test(decoded(segment)) ? segment : maskUnknown(decoded(segment));
    })
    .join('/');
}

/** The segments the given route paths spell out (`/users/:user_id/role`: `users`, `role`), for `loggableUrl`. */
export const literalSegments = (paths: Iterable<string>): ReadonlySet<string> =>
  new Set([...paths].flatMap((p) => p.split('/').filter((s) => s !== '' && !s.includes(':') && !s.includes('*'))).concat(''));

/**
 * The URL as the access log shows it. Secret query values are redacted in every mode. Unless
 * `full`: values are decoded before they are judged (`%40` is an `@`), a personal key's value is
 * masked its way (`email`, `fio`, `tags`, …), any other value but paging's is masked too (an
 * unknown key's as well), and the path is masked as `loggablePath` says. `pattern` is the route
 * Express matched, if any; `literals` the segments of every route's path.
 */
export function loggableUrl(url: string, mode: UrlMode, pattern: string | undefined, literals: ReadonlySet<string>): string {
  const q = url.indexOf('?');
  const [pathname, search] = q < 0 ? [url, undefined] : [url.slice(0, q), url.slice(q + 1)];
  const path = mode === 'full' ? pathname : loggablePath(pathname, pattern, literals);
  if (search === undefined) return path;
  const params = new URLSearchParams();
  for (const [key, value] of new URLSearchParams(search)) {
    if (SECRET_QUERY.test(key) || isSecretKey(key)) params.append(key, '[REDACTED]');
    else if (mode === 'full') params.append(key, value);
    else if (PLAIN_QUERY.test(key)) params.append(key, maskInText(value));
    else params.append(maskInText(key), value === '' ? value : (personalMasker(key) ?? maskUnknown)(value));
  }
  return `${path}?${params.toString()}`;
}
