/**
 * The case-insensitive identity of a username or email address (NFKC, then lower case): two values
 * with the same key are the same account name, so uniqueness and login look-ups compare keys.
 */
export const identityKey = (value: string): string => value.normalize('NFKC').toLowerCase();

/**
 * What a per-name limit (failed logins, password reset requests) counts a login name under: the
 * name as typed, by its identity key, never the account it stands for. Counts kept per account
 * would tell a guesser whether a username and an email are one account (failures on one name
 * throttling the other); per name they tell nothing, at the price of one guesser getting each
 * name's free attempts (two per account: bounded, and the address counter still applies).
 */
export const loginNameKey = (login: string): string => `name:${identityKey(login.trim())}`;
