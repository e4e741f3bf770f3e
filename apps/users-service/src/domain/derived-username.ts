import { identityKey, USERNAME_MAX, USERNAME_MIN, Username } from '@um/contracts';

const BASE_MAX = 30;
const FALLBACK = 'user';

/**
 * The base of the username of an account created through an API that has none (spec 001's
 * register, spec 004's create): the email's local part in NFKC and lower case, every character
 * other than a letter, digit, `_`, `.` or `-` replaced by `_`, cut to 30 characters, with `_user`
 * appended when shorter than 6. A base the username rules still refuse (mixed scripts, say) is `user_1`.
 */
export function usernameBase(email: string): string {
  const at = email.lastIndexOf('@');
  const local = identityKey(at > 0 ? email.slice(0, at) : email);
  let base = Array.from(local.replace(/[^\p{L}\p{M}\p{Nd}_.-]/gu, '_'))
    .slice(0, BASE_MAX)
    .join('');
  if (Array.from(base).length < USERNAME_MIN) base = `${base}_${FALLBACK}`;
  return Username.safeParse(base).success ? base : `${FALLBACK}_1`;
}

/** The candidates in order: the base, then the base with `_2`, `_3`, … `_{count}` (each within the 36-character limit). */
export function usernameCandidates(email: string, count = 20): string[] {
  const base = usernameBase(email);
  const out = [base];
  for (let n = 2; n <= count; n++) {
    const suffix = `_${n}`;
    out.push(
      `${Array.from(base)
        .slice(0, USERNAME_MAX - suffix.length)
        .join('')}${suffix}`,
    );
  }
  return out;
}
