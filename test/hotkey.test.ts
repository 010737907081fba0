import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { flush, hotkeyState, isUtf8Locale, scan, takeKeyboardToggles, type HotkeyState } from '../src/session/hotkey';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const text = (s: string): Buffer => Buffer.from(s, 'utf8');

const CTRL_ALT_C = hex('1b 03');
const F12 = hex('1b 5b 32 34 7e');
const F11 = hex('1b 5b 32 33 7e');
const META_UTF8 = hex('c2 83');
const META_BARE = hex('83');

interface Fed {
  passthrough: Buffer;
  kill: boolean;
  state: HotkeyState;
}

/** Feed chunks in order until a kill; passthrough is everything released (flushed at the end). */
function feed(chunks: Buffer[], utf8: boolean, flushAtEnd = true): Fed {
  let state = hotkeyState({ utf8 });
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    const r = scan(state, chunk);
    out.push(r.passthrough);
    state = r.state;
    if (r.kill) return { passthrough: Buffer.concat(out), kill: true, state };
  }
  if (flushAtEnd) {
    const f = flush(state);
    out.push(f.passthrough);
    state = f.state;
  }
  return { passthrough: Buffer.concat(out), kill: false, state };
}

/** Every way of cutting input into two chunks, and into three (empty chunks included). */
function* splits(input: Buffer): Generator<Buffer[]> {
  for (let a = 0; a <= input.length; a++) {
    yield [input.subarray(0, a), input.subarray(a)];
    for (let b = a; b <= input.length; b++) {
      yield [input.subarray(0, a), input.subarray(a, b), input.subarray(b)];
    }
  }
}

function assertEverySplit(input: Buffer, utf8: boolean, want: { passthrough: Buffer; kill: boolean }): void {
  for (const chunks of splits(input)) {
    const got = feed(chunks, utf8);
    const where = `split ${chunks.map((c) => c.toString('hex')).join(' | ')}`;
    assert.equal(got.kill, want.kill, where);
    assert.deepEqual(got.passthrough, want.passthrough, where);
  }
}

const hotkeys: Array<{ name: string; bytes: Buffer; utf8: boolean }> = [
  { name: 'Ctrl-Alt-C as ESC Ctrl-C (UTF-8 mode)', bytes: CTRL_ALT_C, utf8: true },
  { name: 'Ctrl-Alt-C as ESC Ctrl-C (non-UTF-8 mode)', bytes: CTRL_ALT_C, utf8: false },
  { name: 'F12 (UTF-8 mode)', bytes: F12, utf8: true },
  { name: 'F12 (non-UTF-8 mode)', bytes: F12, utf8: false },
  { name: '8-bit meta Ctrl-C as UTF-8 c2 83 (UTF-8 mode)', bytes: META_UTF8, utf8: true },
  { name: '8-bit meta Ctrl-C as bare 83 (non-UTF-8 mode)', bytes: META_BARE, utf8: false },
];

describe('kill hotkey', () => {
  for (const hk of hotkeys) {
    it(`recognises ${hk.name} on its own`, () => {
      const r = scan(hotkeyState({ utf8: hk.utf8 }), hk.bytes);
      assert.equal(r.kill, true);
      assert.equal(r.passthrough.length, 0);
    });

    it(`recognises ${hk.name} inside text, split at every position, passing only what came before`, () => {
      const input = Buffer.concat([text('ls -l'), hk.bytes, text('rm -rf /')]);
      assertEverySplit(input, hk.utf8, { passthrough: text('ls -l'), kill: true });
    });
  }

  it('treats c2 83 in non-UTF-8 mode as the hotkey, passing the c2 (Latin-1 Â) before it', () => {
    assertEverySplit(hex('61 c2 83 62'), false, { passthrough: hex('61 c2'), kill: true });
  });

  it('passes ESC then recognises the hotkey in 1b 1b 03', () => {
    assertEverySplit(hex('1b 1b 03'), true, { passthrough: hex('1b'), kill: true });
    assertEverySplit(hex('1b 1b 03'), false, { passthrough: hex('1b'), kill: true });
  });

  it('passes an F11 prefix and recognises F12 right after it', () => {
    assertEverySplit(Buffer.concat([hex('1b 5b 32 33'), F12]), true, { passthrough: hex('1b 5b 32 33'), kill: true });
  });

  it('in non-UTF-8 mode kills on an 83 that cannot be a continuation at its position (e0 83)', () => {
    // RFC 3629: after e0 the next byte must be a0-bf, so this 83 is not part of a character.
    assertEverySplit(hex('e0 83'), false, { passthrough: hex('e0'), kill: true });
  });

  it('in non-UTF-8 mode kills on an 83 right after a complete ă (c4 83 83)', () => {
    assertEverySplit(hex('c4 83 83'), false, { passthrough: hex('c4 83'), kill: true });
  });

  it('in non-UTF-8 mode kills on an 83 after ASCII or ESC', () => {
    assertEverySplit(hex('61 83'), false, { passthrough: hex('61'), kill: true });
    assertEverySplit(hex('1b 83'), false, { passthrough: hex('1b'), kill: true });
  });

  it('drops the bytes after the hotkey in the same chunk', () => {
    const r = scan(hotkeyState({ utf8: true }), Buffer.concat([text('a'), F12, text('b')]));
    assert.equal(r.kill, true);
    assert.deepEqual(r.passthrough, text('a'));
  });
});

const lookAlikes: Array<{ name: string; bytes: Buffer; modes: boolean[] }> = [
  { name: 'ă (c4 83)', bytes: text('ă'), modes: [true, false] },
  { name: '₃ (e2 82 83)', bytes: hex('e2 82 83'), modes: [true, false] },
  { name: 'an emoji ending in 83 (f0 9f 98 83)', bytes: hex('f0 9f 98 83'), modes: [true, false] },
  { name: 'F11 (1b 5b 32 33 7e)', bytes: F11, modes: [true, false] },
  { name: 'Ctrl-F12 (1b 5b 32 34 3b 35 7e)', bytes: hex('1b 5b 32 34 3b 35 7e'), modes: [true, false] },
  { name: 'arrow keys (1b 5b 41..44)', bytes: hex('1b 5b 41 1b 5b 42 1b 5b 43 1b 5b 44'), modes: [true, false] },
  { name: 'Alt-c (1b 63)', bytes: hex('1b 63'), modes: [true, false] },
  { name: 'plain Ctrl-C (03)', bytes: hex('03'), modes: [true, false] },
  { name: '© (c2 a9)', bytes: text('©'), modes: [true, false] },
  { name: 'a bare 83', bytes: hex('83'), modes: [true] },
  { name: 'c4 c2 a9 (broken ă then ©)', bytes: hex('c4 c2 a9'), modes: [true] },
];

describe('look-alikes of the kill hotkey', () => {
  for (const la of lookAlikes) {
    for (const utf8 of la.modes) {
      it(`passes ${la.name} unchanged in ${utf8 ? 'UTF-8' : 'non-UTF-8'} mode, split at every position`, () => {
        const input = Buffer.concat([text('x'), la.bytes, text('y')]);
        assertEverySplit(input, utf8, { passthrough: input, kill: false });
      });
    }
  }

  it('holds a lone ESC until flush releases it', () => {
    const r = scan(hotkeyState({ utf8: true }), hex('1b'));
    assert.equal(r.kill, false);
    assert.equal(r.passthrough.length, 0);
    const f = flush(r.state);
    assert.deepEqual(f.passthrough, hex('1b'));
    assert.equal(f.state.held.length, 0);
  });

  it('releases a held ESC, unchanged and first, when the next byte arrives', () => {
    const first = scan(hotkeyState({ utf8: true }), hex('1b'));
    const second = scan(first.state, text('b'));
    assert.equal(second.kill, false);
    assert.deepEqual(second.passthrough, hex('1b 62'));
  });

  it('holds every proper prefix of F12 and of c2 83 at the end of a chunk', () => {
    for (const held of ['1b', '1b 5b', '1b 5b 32', '1b 5b 32 34', 'c2']) {
      const r = scan(hotkeyState({ utf8: true }), Buffer.concat([text('z'), hex(held)]));
      assert.deepEqual(r.passthrough, text('z'), held);
      assert.deepEqual(r.state.held, hex(held), held);
    }
  });

  it('does not hold c2 in non-UTF-8 mode', () => {
    const r = scan(hotkeyState({ utf8: false }), hex('c2'));
    assert.deepEqual(r.passthrough, hex('c2'));
  });

  it('keeps held bytes independent of the caller reusing its read buffer', () => {
    const buf = hex('61 1b');
    const r = scan(hotkeyState({ utf8: true }), buf);
    buf.fill(0);
    assert.deepEqual(flush(r.state).passthrough, hex('1b'));
  });

  it('passes random hotkey-free input unchanged under random splits', () => {
    const tokens = [
      text('a'), text('Z'), text(' '), text('\r'), text('~'), hex('03'), text('ă'), text('©'), text('€'),
      hex('e2 82 83'), hex('f0 9f 98 83'), F11, hex('1b 5b 41'), hex('1b 5b 32 34 3b 35 7e'), hex('1b 63'),
      hex('1b 4f 50'), hex('5b 32 34 7e'), hex('c4'), hex('e2 82'),
    ];
    const random = seeded(12345);
    for (let round = 0; round < 300; round++) {
      for (const utf8 of [true, false]) {
        const parts: Buffer[] = [];
        const count = 1 + Math.floor(random() * 40);
        for (let k = 0; k < count; k++) parts.push(tokens[Math.floor(random() * tokens.length)]);
        if (utf8) parts.push(hex('83')); // bare 83 is text in UTF-8 mode
        const input = Buffer.concat(parts);
        const chunks = randomSplit(input, random);
        const got = feed(chunks, utf8);
        assert.equal(got.kill, false, input.toString('hex'));
        assert.deepEqual(got.passthrough, input, input.toString('hex'));
      }
    }
  });

  it('finds a hotkey placed anywhere in random input under random splits', () => {
    const tokens = [text('a'), text('ă'), text('€'), F11, hex('1b 5b 41'), hex('1b 63'), hex('e2 82 83')];
    const random = seeded(777);
    for (let round = 0; round < 300; round++) {
      const hk = hotkeys[Math.floor(random() * hotkeys.length)];
      const before: Buffer[] = [];
      const count = Math.floor(random() * 20);
      for (let k = 0; k < count; k++) before.push(tokens[Math.floor(random() * tokens.length)]);
      const prefix = Buffer.concat(before);
      const input = Buffer.concat([prefix, hk.bytes, text('after')]);
      const got = feed(randomSplit(input, random), hk.utf8);
      assert.equal(got.kill, true, `${hk.name}: ${input.toString('hex')}`);
      assert.deepEqual(got.passthrough, prefix, `${hk.name}: ${input.toString('hex')}`);
    }
  });
});

describe('kill hotkey scanning speed', () => {
  it('returns a 64 KiB chunk without candidate bytes as is, without copying', () => {
    const chunk = Buffer.alloc(64 * 1024, 'the quick brown fox ');
    const r = scan(hotkeyState({ utf8: true }), chunk);
    assert.equal(r.passthrough, chunk);
  });

  it('scans 64 KiB chunks of ASCII and of ă-heavy text quickly', () => {
    const ascii = Buffer.alloc(64 * 1024, 'the quick brown fox ');
    const accents = Buffer.alloc(64 * 1024, 'ăăăă\x1b[A');
    for (const [chunk, utf8] of [[ascii, true], [ascii, false], [accents, true], [accents, false]] as const) {
      const start = process.hrtime.bigint();
      let state = hotkeyState({ utf8 });
      for (let k = 0; k < 20; k++) {
        const r = scan(state, chunk);
        assert.equal(r.kill, false);
        state = r.state;
      }
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      // Generous bound: a per-byte allocating scanner takes seconds here, ours milliseconds.
      assert.ok(ms < 2000, `20 x 64 KiB took ${ms} ms`);
    }
  });
});

describe('isUtf8Locale', () => {
  it('reads LC_ALL, then LC_CTYPE, then LANG, the first non-empty one winning', () => {
    assert.equal(isUtf8Locale({ LANG: 'en_US.UTF-8' }), true);
    assert.equal(isUtf8Locale({ LANG: 'de_DE.utf8' }), true);
    assert.equal(isUtf8Locale({ LC_CTYPE: 'C.UTF-8', LANG: 'C' }), true);
    assert.equal(isUtf8Locale({ LC_ALL: 'C', LC_CTYPE: 'C.UTF-8', LANG: 'en_US.UTF-8' }), false);
    assert.equal(isUtf8Locale({ LC_ALL: '', LANG: 'ro_RO.Utf-8' }), true);
    assert.equal(isUtf8Locale({ LANG: 'ro_RO.ISO-8859-2' }), false);
  });

  it('treats no locale at all as not UTF-8 (the C locale)', () => {
    assert.equal(isUtf8Locale({}), false);
  });
});

/** Small deterministic PRNG (mulberry32) so a failing case can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSplit(input: Buffer, random: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  while (at < input.length) {
    const len = Math.floor(random() * 6);
    chunks.push(input.subarray(at, at + len));
    at += len;
  }
  return chunks;
}

describe('keyboard toggle (Ctrl-Alt-K)', () => {
  const cases: [string, string, string, number][] = [
    ['alone', '1b 0b', '', 1],
    ['between text', '61 1b 0b 62', '61 62', 1],
    ['twice', '1b 0b 1b 0b', '', 2],
    ['plain Ctrl-K is text', '0b', '0b', 0],
    ['Esc then k is text', '1b 6b', '1b 6b', 0],
    ['other Alt keys are text', '1b 62 1b 0c', '1b 62 1b 0c', 0],
  ];
  for (const [name, input, rest, toggles] of cases) {
    it(name, () => {
      const r = takeKeyboardToggles(hex(input));
      assert.deepEqual(r.rest, hex(rest));
      assert.equal(r.toggles, toggles);
    });
  }
  it('arrives whole after the kill scanner held the ESC across reads', () => {
    const first = scan(hotkeyState({ utf8: true }), hex('61 1b'));
    const second = scan(first.state, hex('0b 62'));
    assert.deepEqual(takeKeyboardToggles(Buffer.concat([first.passthrough, second.passthrough])).toggles, 1);
    assert.equal(takeKeyboardToggles(second.passthrough).toggles, 1, 'the held ESC comes out with the 0b');
  });
});
