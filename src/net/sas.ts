// The short authentication string (SAS): five symbols the friend reads aloud
// over the phone and the helper types in. Both sides derive it from the
// transcript hash of the handshake; a man in the middle would have to make two
// different transcripts agree on 25 bits, and the commitment in the handshake
// leaves him one guess per attempt (1 in 2^25, about 33 million).
//
// Symbols are Crockford base32 (https://www.crockford.com/base32.html):
// 0-9 and A-Z without I, L, O and U, so a misheard or mistyped I/L/O maps back
// to 1/1/0 and the code can never spell the usual rude words with U.

import { createHash, timingSafeEqual } from 'node:crypto';

export const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CODE_LENGTH = 5;

// Domain separation: this hash is only ever used for the SAS.
const SAS_LABEL = Buffer.from('remote-help sas v1\0', 'latin1');

/**
 * h = SHA-256("remote-help sas v1\0" || transcriptHash); the first 25 bits of
 * h, most significant first, as five 5-bit groups, each one Crockford symbol.
 */
export function deriveCode(transcriptHash: Buffer): string {
  const h = createHash('sha256').update(SAS_LABEL).update(transcriptHash).digest();
  const bits = h.readUInt32BE(0) >>> 7; // top 25 of the first 32 bits
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) {
    code += CROCKFORD[(bits >>> (5 * (CODE_LENGTH - 1 - i))) & 31];
  }
  return code;
}

// Spoken words, as on the friend's screen: digits in English, letters in the
// ICAO/NATO spelling alphabet (which writes "Alfa" and "Juliett").
const DIGIT_WORDS = ['Zero', 'One', 'Two', 'Three', 'Four', 'Five', 'Six', 'Seven', 'Eight', 'Nine'];
const LETTER_WORDS: Record<string, string> = {
  A: 'Alfa', B: 'Bravo', C: 'Charlie', D: 'Delta', E: 'Echo', F: 'Foxtrot', G: 'Golf',
  H: 'Hotel', J: 'Juliett', K: 'Kilo', M: 'Mike', N: 'November', P: 'Papa', Q: 'Quebec',
  R: 'Romeo', S: 'Sierra', T: 'Tango', V: 'Victor', W: 'Whiskey', X: 'X-ray', Y: 'Yankee',
  Z: 'Zulu',
};

/** One spoken word per symbol, e.g. "K73XA" -> Kilo Seven Three X-ray Alfa. */
export function codeWords(code: string): string[] {
  return Array.from(code).map((c) => {
    const upper = c.toUpperCase();
    if (upper >= '0' && upper <= '9') return DIGIT_WORDS[Number(upper)];
    return LETTER_WORDS[upper] ?? c;
  });
}

/** One line per symbol, for reading by ear or by braille: "Q as in Quebec", "7, the number seven". */
export function spellCode(code: string): string[] {
  return Array.from(code).map((c, i) => {
    const upper = c.toUpperCase();
    const word = codeWords(upper)[0];
    const said = upper >= '0' && upper <= '9' ? `${upper}, the number ${word.toLowerCase()}` : `${upper} as in ${word}`;
    return `${i + 1}: ${said}`;
  });
}

// Typed-out words -> the symbol they stand for, keys lower case without dashes.
// Common alternative spellings are accepted, and I/L/O/U words map like the
// letters themselves would.
const WORD_SYMBOLS: Record<string, string> = {
  ...Object.fromEntries(DIGIT_WORDS.map((w, i) => [w.toLowerCase(), String(i)])),
  ...Object.fromEntries(Object.entries(LETTER_WORDS).map(([s, w]) => [w.toLowerCase().replace('-', ''), s])),
  niner: '9', alpha: 'A', juliet: 'J', whisky: 'W', india: 'I', lima: 'L', oscar: 'O', uniform: 'U',
};

type Parsed = { code: string } | { error: string };

/**
 * Forgiving reading of what the helper typed: case, spaces, dashes and dots
 * do not matter; O reads as 0, I and L as 1; spoken words may be typed out
 * ("kilo seven 3 x-ray alpha"). Returns the canonical code or a plain reason.
 */
export function normalizeCode(input: string): Parsed {
  const tokens = input.toLowerCase().split(/[\s,.]+/).filter((t) => t !== '');
  const asWords = tokens.map((t) => WORD_SYMBOLS[t.replace(/-/g, '')] ?? t).join('');
  const usedWords = tokens.some((t) => WORD_SYMBOLS[t.replace(/-/g, '')] !== undefined);
  // A word stands for one symbol but is at least three letters, so the two
  // readings never both give five symbols: at most one of them can succeed.
  const byWords = usedWords ? parseSymbols(asWords) : undefined;
  if (byWords && 'code' in byWords) return byWords;
  const byLetters = parseSymbols(tokens.join(''));
  if ('code' in byLetters || !byWords) return byLetters;
  return byWords;
}

function parseSymbols(s: string): Parsed {
  let code = '';
  for (const ch of s.replace(/-/g, '')) {
    const up = ch.toUpperCase(); // may be two letters ("ß" -> "SS"): rejected below
    const c = up === 'O' ? '0' : up === 'I' || up === 'L' ? '1' : up;
    if (c === 'U') return { error: 'there is no letter U in any code; check that symbol again' };
    if (c.length !== 1 || !CROCKFORD.includes(c)) return { error: `"${ch}" is not part of any code` };
    code += c;
  }
  if (code.length !== CODE_LENGTH) {
    return { error: `the code has ${CODE_LENGTH} symbols, you typed ${code.length}` };
  }
  return { code };
}

/** Whether what was typed is the expected code, compared in constant time. */
export function codesMatch(expected: string, typed: string): boolean {
  const a = normalizeCode(expected);
  const b = normalizeCode(typed);
  if (!('code' in a) || !('code' in b)) return false;
  return timingSafeEqual(Buffer.from(a.code, 'ascii'), Buffer.from(b.code, 'ascii'));
}
