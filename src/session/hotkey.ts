// The friend's kill hotkey (DESIGN.md section 4): Ctrl-Alt-C or F12 ends the session at once.
// blessed does not report ESC + Ctrl-C as a key, so we look for the byte sequences in the raw
// input stream, before anything else sees it. A key may arrive split across reads, so the
// scanner holds a possible hotkey prefix at the end of a chunk until the next bytes decide.
//
// Sequences recognised (xterm ctlseqs, "Alt and Meta Keys" and "PC-Style Function Keys"):
//   1b 03            Ctrl-Alt-C with metaSendsEscape (ESC prefix), any mode
//   1b 5b 32 34 7e   F12 (CSI 2 4 ~), xterm and the linux console; F11 is CSI 2 3 ~
//   c2 83            UTF-8 mode: 8-bit meta Ctrl-C (0x03 | 0x80 = U+0083) encoded as UTF-8
//   83               non-UTF-8 mode: 8-bit meta Ctrl-C sent as a bare byte
//
// The bare 83 is ambiguous: it is also a UTF-8 continuation byte, as in ă = c4 83 or
// e2 82 83 (₃). We track the UTF-8 decoder state in both modes, so an 83 that continues a
// multi-byte character is text. Choices made for the ambiguous cases:
//   - UTF-8 mode: a bare 83 is never the hotkey (a UTF-8 terminal cannot send it alone).
//   - non-UTF-8 mode: an 83 is the hotkey unless it is a valid continuation byte at its
//     position; the one exception is c2 83, which is also the hotkey (U+0083 is a C1 control
//     nobody types as text, and a UTF-8 terminal on a mislabelled locale sends exactly that).
//     Here c2 is not held: it passes through as a Latin-1 'Â' before the 83 kills.
//   - "valid at its position" follows RFC 3629's table: after e0 the next byte must be a0-bf,
//     after ed 80-9f, after f0 90-bf, after f4 80-8f, otherwise 80-bf. An 83 right after e0 or
//     f0 therefore cannot be text and is the hotkey. We decide at the 83 itself and never wait
//     for the rest of the character: the kill must not depend on later input.

/** Where the UTF-8 decoder is: how many continuation bytes are still expected, and in which
 * range the next one must lie. `lead` is the lead byte while its sequence is in progress. */
export interface Utf8Progress {
  readonly need: number;
  readonly lo: number;
  readonly hi: number;
  readonly lead: number;
}

export interface HotkeyState {
  /** true when the friend's terminal speaks UTF-8 (see isUtf8Locale) */
  readonly utf8: boolean;
  /** bytes at the end of the input so far that may be the start of a hotkey (at most 4) */
  readonly held: Buffer;
  /** UTF-8 decoder state after every byte seen so far, held ones included */
  readonly progress: Utf8Progress;
}

export interface ScanResult {
  state: HotkeyState;
  passthrough: Buffer;
  kill: boolean;
}

const ESC = 0x1b;
const META_CTRL_C = 0x83;
const UTF8_LEAD_OF_83 = 0xc2;

// Multi-byte hotkeys. The scanner releases a held prefix and rescans only the byte that broke
// it; that is correct because no proper suffix of a held prefix (5b, 5b 32, 32, 32 34, 34) is
// itself the start of a hotkey.
const CTRL_ALT_C = Buffer.from([ESC, 0x03]);
const F12 = Buffer.from([ESC, 0x5b, 0x32, 0x34, 0x7e]);
const META_CTRL_C_UTF8 = Buffer.from([UTF8_LEAD_OF_83, META_CTRL_C]);

const SEQUENCES_UTF8: readonly Buffer[] = [CTRL_ALT_C, F12, META_CTRL_C_UTF8];
const SEQUENCES_8BIT: readonly Buffer[] = [CTRL_ALT_C, F12];

function sequencesFor(utf8: boolean): readonly Buffer[] {
  return utf8 ? SEQUENCES_UTF8 : SEQUENCES_8BIT;
}

const EMPTY = Buffer.alloc(0);
const GROUND: Utf8Progress = Object.freeze({ need: 0, lo: 0x80, hi: 0xbf, lead: 0 });

export function hotkeyState(opts: { utf8: boolean }): HotkeyState {
  return { utf8: opts.utf8, held: EMPTY, progress: GROUND };
}

/** One step of a UTF-8 decoder that only tracks structure (RFC 3629 section 4). */
function stepUtf8(p: Utf8Progress, b: number): Utf8Progress {
  if (b >= 0x80 && b <= 0xbf) {
    if (p.need > 0 && b >= p.lo && b <= p.hi) {
      return p.need === 1 ? GROUND : { need: p.need - 1, lo: 0x80, hi: 0xbf, lead: p.lead };
    }
    return GROUND; // stray continuation byte
  }
  if (b >= 0xc2 && b <= 0xdf) return { need: 1, lo: 0x80, hi: 0xbf, lead: b };
  if (b >= 0xe0 && b <= 0xef) {
    const lo = b === 0xe0 ? 0xa0 : 0x80;
    const hi = b === 0xed ? 0x9f : 0xbf;
    return { need: 2, lo, hi, lead: b };
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const lo = b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xf4 ? 0x8f : 0xbf;
    return { need: 3, lo, hi, lead: b };
  }
  return GROUND; // ASCII, or a byte that never appears in UTF-8 (c0, c1, f5-ff)
}

/** Decoder state after buf[from, to). At most 3 continuation bytes can be pending, so the
 * state after any 4 bytes does not depend on what came before them: a long run is settled by
 * decoding only its last 4 bytes from the ground state. */
function advanceUtf8(p: Utf8Progress, buf: Buffer, from: number, to: number): Utf8Progress {
  let start = from;
  if (to - from >= 4) {
    start = to - 4;
    p = GROUND;
  }
  for (let i = start; i < to; i++) p = stepUtf8(p, buf[i]);
  return p;
}

/** Is this 83 (arriving in state p) text, i.e. a continuation byte of a character? */
function continuesCharacter(p: Utf8Progress): boolean {
  if (p.lead === UTF8_LEAD_OF_83 && p.need === 1) return false; // c2 83 is the hotkey
  return p.need > 0 && META_CTRL_C >= p.lo && META_CTRL_C <= p.hi;
}

type Extension = 'kill' | 'hold' | 'release';

/** What byte b does to the candidate prefix bytes[from, from + len). */
function extend(bytes: Uint8Array, from: number, len: number, b: number, utf8: boolean): Extension {
  for (const seq of sequencesFor(utf8)) {
    if (seq.length <= len || seq[len] !== b) continue;
    let same = true;
    for (let k = 0; k < len && same; k++) same = bytes[from + k] === seq[k];
    if (same) return seq.length === len + 1 ? 'kill' : 'hold';
  }
  return 'release';
}

/** Does byte b start a hotkey sequence in this mode? */
function startsSequence(b: number, utf8: boolean): boolean {
  return b === ESC || (utf8 && b === UTF8_LEAD_OF_83);
}

function join(parts: Buffer[]): Buffer {
  if (parts.length === 0) return EMPTY;
  if (parts.length === 1) return parts[0];
  return Buffer.concat(parts);
}

/**
 * Feed one chunk of the friend's raw input. passthrough is the input minus the hotkey (and
 * minus any bytes held for the next chunk); on a hotkey, kill is true, passthrough is what came
 * before it, and the rest of the chunk is dropped. Runs of ordinary bytes are passed on as
 * views of the chunk, not copies.
 */
export function scan(state: HotkeyState, chunk: Buffer): ScanResult {
  const { utf8 } = state;
  const n = chunk.length;
  const parts: Buffer[] = [];
  let progress = state.progress; // decoder state before chunk[i]
  let i = 0;

  // A prefix held from earlier chunks: the first bytes of this one decide it.
  let held = state.held;
  while (held.length > 0 && i < n) {
    const b = chunk[i];
    const ext = extend(held, 0, held.length, b, utf8);
    if (ext === 'kill') return killed(utf8, parts);
    if (ext === 'release') {
      parts.push(held); // not a hotkey after all: out unchanged; b is looked at afresh below
      held = EMPTY;
      break;
    }
    held = Buffer.concat([held, chunk.subarray(i, i + 1)]);
    progress = stepUtf8(progress, b);
    i++;
  }
  if (held.length > 0) return { state: { utf8, held, progress }, passthrough: join(parts), kill: false };

  // The second candidate byte besides ESC: c2 (first byte of c2 83) in UTF-8 mode, 83 otherwise.
  const other = utf8 ? UTF8_LEAD_OF_83 : META_CTRL_C;
  let segStart = i; // start of the run of chunk bytes that pass unchanged
  let nextEsc = -1; // cached positions of the next candidate bytes, so each is searched once
  let nextOther = -1;
  while (i < n) {
    if (nextEsc < i) nextEsc = chunk.indexOf(ESC, i);
    if (nextEsc < 0) nextEsc = n;
    if (nextOther < i) nextOther = chunk.indexOf(other, i);
    if (nextOther < 0) nextOther = n;
    const c = Math.min(nextEsc, nextOther);
    progress = advanceUtf8(progress, chunk, i, c);
    if (c === n) break;

    const b = chunk[c];
    if (startsSequence(b, utf8)) {
      // Follow the candidate as far as this chunk goes.
      let end = c + 1;
      let p = stepUtf8(progress, b);
      let ext: Extension = 'hold';
      while (end < n) {
        ext = extend(chunk, c, end - c, chunk[end], utf8);
        if (ext !== 'hold') break;
        p = stepUtf8(p, chunk[end]);
        end++;
      }
      if (ext === 'release') {
        progress = p; // chunk[c, end) stays in the run; chunk[end] is looked at afresh
        i = end;
        continue;
      }
      if (c > segStart) parts.push(chunk.subarray(segStart, c));
      if (ext === 'kill') return killed(utf8, parts);
      // Still a prefix when the chunk ends: hold a copy, the caller may reuse its buffer.
      return { state: { utf8, held: Buffer.from(chunk.subarray(c, n)), progress: p }, passthrough: join(parts), kill: false };
    }
    // A bare 83 in non-UTF-8 mode.
    if (!continuesCharacter(progress)) {
      if (c > segStart) parts.push(chunk.subarray(segStart, c));
      return killed(utf8, parts);
    }
    progress = stepUtf8(progress, b);
    i = c + 1;
  }

  if (segStart < n) parts.push(segStart === 0 ? chunk : chunk.subarray(segStart, n));
  return { state: { utf8, held: EMPTY, progress }, passthrough: join(parts), kill: false };
}

function killed(utf8: boolean, before: Buffer[]): ScanResult {
  return { state: hotkeyState({ utf8 }), passthrough: join(before), kill: true };
}

/** Release held bytes: called after a short quiet period, so a lone Esc reaches the shell. */
export function flush(state: HotkeyState): { state: HotkeyState; passthrough: Buffer } {
  return { state: { ...state, held: EMPTY }, passthrough: state.held };
}

/** The locale decides how the terminal encodes Meta: POSIX precedence LC_ALL, LC_CTYPE, LANG,
 * the first one set and non-empty wins. No locale at all means C, which is not UTF-8; that is
 * the safer side, since non-UTF-8 mode also recognises c2 83. */
export function isUtf8Locale(env: NodeJS.ProcessEnv): boolean {
  for (const name of ['LC_ALL', 'LC_CTYPE', 'LANG']) {
    const value = env[name];
    if (value) return /utf-?8/i.test(value);
  }
  return false;
}

// The friend's keyboard key (DESIGN.md section 4, "take the keyboard away"): Ctrl-Alt-K, sent as
// ESC + Ctrl-K (1b 0b) by terminals with metaSendsEscape, the Linux console included. It is looked
// for in what the kill scanner passed on, which already holds an ESC at the end of a read until
// the next byte decides, so the two bytes arrive together.
const CTRL_ALT_K = Buffer.from([ESC, 0x0b]);

/** Removes every Ctrl-Alt-K from the friend's input; `toggles` says how many there were. */
export function takeKeyboardToggles(input: Buffer): { rest: Buffer; toggles: number } {
  let at = input.indexOf(CTRL_ALT_K);
  if (at < 0) return { rest: input, toggles: 0 };
  const parts: Buffer[] = [];
  let from = 0;
  let toggles = 0;
  while (at >= 0) {
    if (at > from) parts.push(input.subarray(from, at));
    toggles++;
    from = at + CTRL_ALT_K.length;
    at = input.indexOf(CTRL_ALT_K, from);
  }
  if (from < input.length) parts.push(input.subarray(from));
  return { rest: join(parts), toggles };
}
