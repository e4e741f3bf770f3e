/**
 * Unicode Technical Standard #39 (security mechanisms) checks for identifiers such as usernames:
 * invisible characters (§5.4 / UAX #31), stacked combining marks (§5.4) and the mixed-script
 * restriction levels (§5.2). Pure functions over a string, no tables of our own: the Unicode
 * properties come from the JS regex engine (ICU).
 */

const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;

/** True when the string holds a code point that renders as nothing (U+3164, U+115F, U+034F, U+FE0F, ...). */
export const hasDefaultIgnorable = (s: string) => DEFAULT_IGNORABLE.test(s);

const MARK = /^\p{M}$/u;

/**
 * At most `max` combining marks on one character, never the same mark twice in a row (it looks like
 * one), and no mark without a character before it. Zalgo text breaks the first rule.
 */
export function hasFewMarks(s: string, max: number): boolean {
  let run = 0;
  let previous = '';
  for (const c of s) {
    if (!MARK.test(c)) {
      run = 0;
      previous = c;
      continue;
    }
    if (previous === '' || c === previous || ++run > max) return false;
    previous = c;
  }
  return true;
}

/**
 * ISO 15924 codes of the Unicode scripts (Unicode 16). Only those the running engine knows are used,
 * so an older ICU never makes the module fail to load; a letter of a script it does not know is
 * treated as a script of its own.
 */
const SCRIPT_CODES = `Adlm Aghb Ahom Arab Armi Armn Avst Bali Bamu Bass Batk Beng Bhks Bopo Brah Brai Bugi Buhd Cakm Cans Cari
  Cham Cher Chrs Copt Cpmn Cprt Cyrl Deva Diak Dogr Dsrt Dupl Egyp Elba Elym Ethi Gara Geor Glag Gong Gonm Goth Gran Grek
  Gujr Gukh Guru Hang Hani Hano Hatr Hebr Hira Hluw Hmng Hmnp Hung Ital Java Kali Kana Kawi Khar Khmr Khoj Kits Knda Krai
  Kthi Lana Laoo Latn Lepc Limb Lina Linb Lisu Lyci Lydi Mahj Maka Mand Mani Marc Medf Mend Merc Mero Mlym Modi Mong Mroo
  Mtei Mult Mymr Nagm Nand Narb Nbat Newa Nkoo Nshu Ogam Olck Onao Orkh Orya Osge Osma Ougr Palm Pauc Perm Phag Phli Phlp
  Phnx Plrd Prti Rjng Rohg Runr Samr Sarb Saur Sgnw Shaw Shrd Sidd Sind Sinh Sogd Sogo Sora Soyo Sund Sunu Sylo Syrc Tagb
  Takr Tale Talu Taml Tang Tavt Telu Tfng Tglg Thaa Thai Tibt Tirh Tnsa Todr Toto Tutg Ugar Vaii Vith Wara Wcho Xpeo Xsux
  Yezi Yiii Zanb`.split(/\s+/);

const SCRIPTS: Array<[string, RegExp]> = SCRIPT_CODES.flatMap((code) => {
  try {
    return [[code, new RegExp(`^\\p{Script_Extensions=${code}}$`, 'u')] as [string, RegExp]];
  } catch {
    return [];
  }
});

/** Common (digits, `_ . -`) and Inherited (most combining marks) go with any script (§5.1). */
const ANY_SCRIPT = /^[\p{Script_Extensions=Common}\p{Script_Extensions=Inherited}]$/u;
const ASCII_LATIN = /^[A-Za-z]$/;

/** The writing systems that combine several scripts (§5.1 augmented script sets). */
const AUGMENT: Record<string, string[]> = {
  Hani: ['Hanb', 'Jpan', 'Kore'],
  Hira: ['Jpan'],
  Kana: ['Jpan'],
  Hang: ['Kore'],
  Bopo: ['Hanb'],
};

/** The augmented Script_Extensions of one code point, or `undefined` when it goes with any script. */
function scriptsOf(c: string): Set<string> | undefined {
  if (ASCII_LATIN.test(c)) return new Set(['Latn']);
  // Script_Extensions is either Common/Inherited alone or a list of real scripts, never both.
  if (ANY_SCRIPT.test(c)) return undefined;
  // A code point in several scripts (say U+30FC, Hiragana and Katakana) belongs to each of them.
  const found = SCRIPTS.filter(([, re]) => re.test(c)).map(([code]) => code);
  if (found.length === 0) return new Set([`unknown:${c}`]);
  return new Set(found.flatMap((code) => [code, ...(AUGMENT[code] ?? [])]));
}

/** Scripts the restriction level never pairs with Latin: their letters copy Latin ones (а/a, ο/o, р/p). */
const NOT_WITH_LATIN = new Set(['Cyrl', 'Grek']);

/**
 * UTS #39 §5.2 "Moderately Restrictive": every letter and digit from one script, or the string is
 * covered by Latin plus one other script that is not Cyrillic or Greek. Japanese (Latin + Han +
 * Hiragana + Katakana), Chinese with Bopomofo and Korean with Han count as one script each through
 * the augmented sets, which makes this level include "Highly Restrictive".
 */
export function isModeratelyRestrictive(s: string): boolean {
  const sets = Array.from(s, scriptsOf).filter((x): x is Set<string> => x !== undefined);
  if (sets.length === 0) return true;
  const common = sets.reduce((acc, set) => new Set([...acc].filter((code) => set.has(code))));
  if (common.size > 0) return true;
  const candidates = new Set(sets.flatMap((set) => [...set]));
  for (const other of candidates) {
    if (other === 'Latn' || NOT_WITH_LATIN.has(other)) continue;
    if (sets.every((set) => set.has('Latn') || set.has(other))) return true;
  }
  return false;
}
