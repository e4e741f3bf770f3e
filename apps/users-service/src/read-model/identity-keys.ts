/** Case-insensitive identity of a username or email: what uniqueness is checked on. */
export const usernameKey = (username: string) => username.normalize('NFKC').toLowerCase();
export const emailKey = (email: string) => email.normalize('NFKC').toLowerCase();
