import { AccessClaims, TOKEN, type Jwks, type Role } from '@um/contracts';
import { createLocalJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { AppError } from './errors.js';
import type { Logger } from './logger.js';
import type { RevocationCache } from './revocations.js';

/** Who an access token speaks for, once verified. */
export interface VerifiedToken {
  /** The user's id (the token's `sub`, parsed). */
  userId: number;
  role: Role;
  tokenId: string;
  sessionId: string;
}

/**
 * At most one JWKS refetch per this interval, however many unknown `kid`s arrive (a flood of forged
 * kids must not flood auth-service). A request with an unknown kid waits for the next allowed
 * refetch, so a freshly rotated key is accepted within this delay.
 */
export const REFETCH_COOLDOWN_MS = 1_000;

/** Clock skew allowed on `iat`: a token issued further ahead than this was not issued by our auth-service. */
export const IAT_FUTURE_LEEWAY_SECONDS = 60;
/** auth-service signs `exp = floor(iat) + ttl`; this absorbs rounding, not a longer lifetime. */
export const LIFETIME_LEEWAY_SECONDS = 5;
/** Verified tokens remembered, so a client's next request skips the signature check (revocation is checked every time). */
export const VERIFIED_CACHE_SIZE = 5_000;
/** ACCESS_TOKEN_TTL's default, for a verifier built without one. */
const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 900;

/**
 * Verifies access tokens locally with auth-service's public keys (the gateway for every request;
 * users-service and auth-service for the token the gateway forwards with a call it makes for a user), pinning algorithm, issuer,
 * audience and token type; refuses tokens auth-service would never issue (issued in the future,
 * living longer than ACCESS_TOKEN_TTL: a leaked signing key must not mint long-lived or
 * revocation-proof tokens), then revoked ones.
 */
export class TokenVerifier {
  private keys: JWTVerifyGetKey | undefined;
  private lastFetch = 0;
  private inflight: Promise<void> | undefined;
  /**
   * Claims of tokens whose signature and claims were verified, by token: an EdDSA verification costs
   * more than the rest of a read request in this process. Expiry and revocation are still checked on
   * every use; the whole cache is dropped whenever the keys are reloaded.
   */
  private readonly verified = new Map<string, AccessClaims>();

  constructor(
    private readonly fetchJwks: () => Promise<Jwks>,
    private readonly revocations: Pick<RevocationCache, 'isRevoked'>,
    private readonly log: Logger,
    /** ACCESS_TOKEN_TTL, the same setting auth-service signs with: the longest lifetime accepted. */
    private readonly accessTokenTtlSeconds = DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
  ) {}

  /** Load the keys now (at start-up); failures are retried on the first request that needs them. */
  async warmUp(): Promise<void> {
    await this.refresh(true).catch((err) => this.log.warn({ err: String(err) }, 'JWKS not loaded yet; will retry on demand'));
  }

  private refresh(force = false): Promise<void> {
    if (!force && Date.now() - this.lastFetch < REFETCH_COOLDOWN_MS) return Promise.resolve();
    this.inflight ??= (async () => {
      try {
        this.lastFetch = Date.now();
        const jwks = await this.fetchJwks();
        this.keys = createLocalJWKSet(jwks);
        this.verified.clear();
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  async verify(token: string): Promise<VerifiedToken> {
    const cached = this.verified.get(token);
    // jose's clockTolerance (5 s) applies to a remembered token too; past it the full check says why.
    const claims = cached && cached.exp + 5 > Date.now() / 1000 ? cached : await this.verifyAnew(token);
    if (this.revocations.isRevoked(claims.sub, claims.iat, claims.sid, claims.ver))
      throw new AppError('unauthenticated', 'auth.token_revoked', 'The access token has been revoked');
    return { userId: claims.sub, role: claims.role, tokenId: claims.jti, sessionId: claims.sid };
  }

  private async verifyAnew(token: string): Promise<AccessClaims> {
    this.verified.delete(token);
    if (!this.keys) {
      try {
        await this.refresh(true);
      } catch (err) {
        throw new AppError('unavailable', 'auth.jwks_unavailable', 'Token verification keys are not available yet', undefined, { cause: err });
      }
    }
    let payload: unknown;
    try {
      payload = await this.check(token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw unauthenticated(err);
      const wait = this.lastFetch + REFETCH_COOLDOWN_MS - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await this.refresh().catch(() => undefined);
      try {
        payload = await this.check(token);
      } catch (err2) {
        throw unauthenticated(err2);
      }
    }
    const claims = AccessClaims.safeParse(payload);
    if (!claims.success) throw new AppError('unauthenticated', 'auth.token_claims', 'The access token is invalid');
    this.checkIssuable(claims.data);
    // Oldest first out: a Map iterates in insertion order.
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, claims.data);
    return claims.data;
  }

  /** Refuse what auth-service never signs; iat-based revocation relies on `iat` being honest. */
  private checkIssuable({ iat, exp }: AccessClaims): void {
    if (iat > Date.now() / 1000 + IAT_FUTURE_LEEWAY_SECONDS) throw new AppError('unauthenticated', 'auth.token_iat_future', 'The access token is invalid: issued in the future');
    if (exp - iat > this.accessTokenTtlSeconds + LIFETIME_LEEWAY_SECONDS)
      throw new AppError('unauthenticated', 'auth.token_lifetime', 'The access token is invalid: its lifetime is longer than this system issues');
  }

  private async check(token: string): Promise<unknown> {
    const { payload } = await jwtVerify(token, this.keys!, {
      algorithms: [TOKEN.algorithm],
      issuer: TOKEN.issuer,
      audience: TOKEN.audience,
      typ: TOKEN.type,
      requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      clockTolerance: 5,
    });
    return payload;
  }
}

function unauthenticated(err: unknown): AppError {
  if (err instanceof errors.JWTClaimValidationFailed && err.reason === 'missing' && (err.claim === 'exp' || err.claim === 'iat'))
    return new AppError('unauthenticated', `auth.token_no_${err.claim}`, `The access token is invalid: it has no ${err.claim}`, undefined, { cause: err });
  const expired = err instanceof errors.JWTExpired;
  return new AppError(
    'unauthenticated',
    expired ? 'auth.token_expired' : 'auth.token_invalid',
    expired ? 'The access token has expired' : 'The access token is invalid',
    undefined,
    { cause: err },
  );
}
