/** The rules of a session's life, without a database: when it ends, and who may open or keep one. */

/** A session (and every refresh token of it) ends this long after it is opened; refreshing does not extend it. */
export const sessionExpiresAt = (openedAt: Date, refreshTokenTtlSeconds: number): Date => new Date(openedAt.getTime() + refreshTokenTtlSeconds * 1000);

/**
 * A session may be opened only from a password check made after the user's last password change:
 * a login racing a password change cannot keep a session the change was meant to end.
 */
export const mayOpenSession = (sessionsValidAfter: Date, passwordVerifiedAt: Date): boolean => sessionsValidAfter <= passwordVerifiedAt;

/**
 * The sessions whose tokens every gateway must refuse after ending sessions: those just ended, and
 * the caller's own (`only`) even when it had already ended in the database.
 */
export const sessionsToRefuse = (ended: readonly string[], only: string | undefined): string[] => [...new Set([...ended, ...(only ? [only] : [])])];

/** A session opened by a password check within the reauthentication window counts as a fresh login. */
export const isRecentLogin = (sessionCreatedAt: Date, now: Date, reauthWindowSeconds: number): boolean => sessionCreatedAt.getTime() > now.getTime() - reauthWindowSeconds * 1000;
