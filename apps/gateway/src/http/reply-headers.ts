/** A response header as the API document describes it (an OpenAPI header object). */
export interface ReplyHeader {
  description: string;
  schema: { type: 'string'; pattern?: string; minLength?: number };
  /** Present on every such answer; otherwise only when it applies (a `Link` only when there are more pages). */
  required: boolean;
}

/** The response headers of this API, by the situations that carry them. */
export const replyHeaders = {
  requestId: {
    description: 'The request id: yours if you sent a sane X-Request-Id, else a new one; every log line about the request carries it',
    schema: { type: 'string', minLength: 1 },
    required: true,
  },
  wwwAuthenticate: {
    description: 'RFC 6750 challenge: `Bearer realm="user-management"`, with `error="invalid_token"` when a token was sent and refused',
    schema: { type: 'string', pattern: '^Bearer ' },
    required: true,
  },
  retryAfter: { description: 'Seconds until a retry can succeed', schema: { type: 'string', pattern: '^[0-9]+$' }, required: true },
  totalCount: {
    description: 'How many users match, over all pages (an estimate when X-Total-Count-Exact is false)',
    schema: { type: 'string', pattern: '^[0-9]+$' },
    required: true,
  },
  totalCountExact: {
    description: '`true` when X-Total-Count is an exact count; `false` when the matches passed EXACT_COUNT_LIMIT and it is the planner estimate',
    schema: { type: 'string', pattern: '^(true|false)$' },
    required: true,
  },
  link: {
    description: 'RFC 8288 links to the next and previous pages (`rel="next"`, `rel="prev"`), when there are any',
    schema: { type: 'string', pattern: '^<[^>]*>; rel="(next|prev)"' },
    required: false,
  },
  deviceCookie: {
    description: 'The `um_device` cookie (HttpOnly, SameSite=Strict): this browser logged into the account, so failed logins from elsewhere do not delay it',
    schema: { type: 'string', pattern: '^um_device=' },
    required: true,
  },
} as const satisfies Record<string, ReplyHeader>;
