import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CROCKFORD, codesMatch, codeWords, deriveCode, normalizeCode } from '../src/net/sas';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();

test('the alphabet is Crockford base32: 32 symbols without I, L, O, U', () => {
  assert.equal(CROCKFORD.length, 32);
  assert.equal(new Set(CROCKFORD).size, 32);
  for (const c of 'ILOU') assert.ok(!CROCKFORD.includes(c));
});

test('deriveCode matches pinned vectors', () => {
  // Pinned once from this implementation; a change here breaks compatibility
  // with every released version.
  assert.equal(deriveCode(Buffer.alloc(32)), 'W7XA1');
  assert.equal(deriveCode(sha256('x')), '6BBXA');
});

test('deriveCode takes the first 25 bits of the labelled hash, most significant first', () => {
  const h = sha256(Buffer.concat([Buffer.from('remote-help sas v1\0', 'latin1'), Buffer.alloc(32)]));
  // e1 fa a0 c0 = 11100001 11111010 10100000 11000000
  assert.equal(h.subarray(0, 4).toString('hex'), 'e1faa0c0');
  // 11100 00111 11101 01010 00001 = 28 7 29 10 1 = W 7 X A 1
  const bits = [...h.subarray(0, 4)].map((b) => b.toString(2).padStart(8, '0')).join('').slice(0, 25);
  const groups = bits.match(/.{5}/g)!.map((g) => parseInt(g, 2));
  assert.deepEqual(groups, [28, 7, 29, 10, 1]);
  assert.equal(groups.map((g) => CROCKFORD[g]).join(''), deriveCode(Buffer.alloc(32)));
});

test('deriveCode always gives five symbols of the alphabet', () => {
  for (let i = 0; i < 200; i++) {
    const code = deriveCode(sha256(String(i)));
    assert.match(code, /^[0-9A-HJKMNP-TV-Z]{5}$/);
  }
});

test('codeWords reads each symbol as a word', () => {
  assert.deepEqual(codeWords('K73XA'), ['Kilo', 'Seven', 'Three', 'X-ray', 'Alfa']);
  assert.deepEqual(codeWords('09JWZ'), ['Zero', 'Nine', 'Juliett', 'Whiskey', 'Zulu']);
  assert.equal(new Set(codeWords(CROCKFORD)).size, 32);
});

test('normalizeCode forgives case, spacing, dashes, dots and look-alike letters', () => {
  const rows: [string, string][] = [
    ['K73XA', 'K73XA'],
    [' k7 3x a', 'K73XA'],
    ['k7-3x.a', 'K73XA'],
    ['o0ilL', '00111'],
    ['ABCDE', 'ABCDE'],
    ['kilo seven 3 x-ray alpha', 'K73XA'],
    ['Kilo Seven Three Xray Alfa', 'K73XA'],
    ['juliet juliett niner zero whisky', 'JJ90W'],
    ['one 7k 2 2', '17K22'],
    ['one7k', '0NE7K'], // letters run together are symbols, not a word
  ];
  for (const [typed, code] of rows) assert.deepEqual(normalizeCode(typed), { code }, typed);
});

test('normalizeCode explains what is wrong', () => {
  const rows: [string, RegExp][] = [
    ['k73xu', /letter U/],
    ['k7 3x uniform', /letter U/],
    ['k73x', /^the code has 5 symbols, you typed 4$/],
    ['k73xa9', /you typed 6/],
    ['', /you typed 0/],
    ['k7#xa', /"#" is not part of any code/],
    ['kilo seven three', /you typed 3/],
    ['straße', /not part of any code/],
  ];
  for (const [typed, want] of rows) {
    const r = normalizeCode(typed);
    assert.ok('error' in r, typed);
    assert.match(r.error, want, typed);
  }
});

test('codesMatch compares after normalising', () => {
  assert.equal(codesMatch('K73XA', 'k7 3x a'), true);
  assert.equal(codesMatch('K73XA', 'kilo seven three x-ray alfa'), true);
  assert.equal(codesMatch('10K0A', 'lok oa'), true);
  assert.equal(codesMatch('K73XA', 'K73XB'), false);
  assert.equal(codesMatch('K73XA', 'K73X'), false);
  assert.equal(codesMatch('K73XA', 'K73XU'), false);
});
