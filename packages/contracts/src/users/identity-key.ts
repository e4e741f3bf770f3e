/**
 * The case-insensitive identity of a username or email address (NFKC, then lower case): two values
 * with the same key are the same account name, so uniqueness and login look-ups compare keys.
 */
export const identityKey = (value: string): string => value.normalize('NFKC').toLowerCase();
