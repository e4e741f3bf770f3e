import { createRequire } from 'node:module';
import { identityKey } from '@um/contracts';
import { AppError } from '@um/platform';

/** The common passwords to refuse, or none (`PASSWORD_DENYLIST=off`); the other rules always apply. */
export interface PasswordPolicy {
  common: ReadonlySet<string> | undefined;
}

/** The user a password is for: it must not contain their name. */
export interface PasswordOwner {
  username: string;
  email: string;
}

/**
 * Shortest email local part the password may not contain. Shorter ones ("a", "jo") occur inside too
 * many good passwords; the username rule still applies in full.
 */
export const EMAIL_LOCAL_MIN = 4;

const BLANK = /^[\s\p{Default_Ignorable_Code_Point}]*$/u;

let common: ReadonlySet<string> | undefined;
/**
 * The ~49,000 most common passwords (zxcvbn-ts's ranked list, shipped offline in
 * `@zxcvbn-ts/language-common`, all lower case). Read once per process.
 */
function commonPasswords(): ReadonlySet<string> {
  if (!common) {
    const { dictionary } = createRequire(import.meta.url)('@zxcvbn-ts/language-common') as { dictionary: Record<string, string[]> };
    const list = dictionary['passwords-common'];
    if (!list?.length) throw new Error('@zxcvbn-ts/language-common has no password list');
    common = new Set(list);
  }
  return common;
}

/** Build the policy at start: reading the list takes a moment that no request should wait for. */
export const createPasswordPolicy = (opts: { denylist: boolean }): PasswordPolicy => ({ common: opts.denylist ? commonPasswords() : undefined });

/** The rule a password breaks, as a field message, or `undefined` when it is acceptable. */
export function passwordProblem(policy: PasswordPolicy, password: string, owner: PasswordOwner): string | undefined {
  if (BLANK.test(password)) return 'must not be blank';
  const folded = identityKey(password);
  if (folded.includes(identityKey(owner.username.trim()))) return 'must not contain the username';
  const local = identityKey(owner.email.trim()).split('@')[0] ?? '';
  if (local.length >= EMAIL_LOCAL_MIN && folded.includes(local)) return 'must not contain the email address (the part before "@")';
  if (policy.common?.has(folded.trim())) return 'is one of the most common passwords';
  return undefined;
}

/** Refuse (422, naming the field and the rule) a password the policy does not accept. Cheap: runs before any hashing. */
export function assertPasswordAcceptable(policy: PasswordPolicy, password: string, owner: PasswordOwner, field = 'password'): void {
  const problem = passwordProblem(policy, password, owner);
  if (problem) throw new AppError('invalid_argument', 'users.weak_password', 'The password is not acceptable', [{ field, message: problem }]);
}
