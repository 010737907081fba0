// What of the shell's output may reach a terminal as it comes, in the line session (--plain, or a
// screen reader: friend-lines.ts, helper-lines.ts). The painted session never lets the shell's
// bytes through (screen.ts parses them, painter.ts draws cells); here they do pass, and they come
// from a machine that may be compromised, so they are filtered first. Pure: fed bytes, returns
// bytes; the state carries over between chunks, so a sequence split anywhere is treated the same.
//
// What passes and why (ECMA-48 names; https://invisible-island.net/xterm/ctlseqs/ctlseqs.html):
// - Text, CR, LF, BS and TAB: what a screen reader or a braille display reads.
// - SGR colours and bold/underline (CSI ... m), but not conceal (8), which hides text, nor reverse
//   video (7), which only remote-help's own lines use. Without colour (TERM=dumb) no SGR passes.
// - Nothing else. Dropped: OSC (titles, OSC 52 clipboard writes, colour queries), DCS (DECRQSS,
//   XTGETTCAP), APC, PM and SOS strings, whole; every CSI with a private marker or intermediates
//   (DA2, DECRQM, modes like mouse reporting and the alternate screen); every query (DA, DSR/CPR,
//   window reports); erasing, scrolling, inserting and deleting; charset switches (SO, SI, ESC ( );
//   C1 controls, also as UTF-8 (U+0080..U+009F), which xterm obeys like ESC sequences; BEL.
// - No cursor positioning: text stays in the order it was printed. A move to another row (CUP,
//   VPA, CUU, CUD, CNL, CPL, IND, RI, NEL) becomes a line break, unless a line just began; a move
//   to the first column (CHA 1) a CR; CUF n spaces and CUB n backspaces (at most 256); other
//   column moves nothing. A full-screen program (an editor, less) is unreadable this way: that is
//   the price of reading output in order.
// - A line of the shell's output cannot say "[remote-help]" (the prefix of remote-help's own
//   lines, announce.ts): the text "[remote-help]", in any case and with colours between its
//   letters, comes out as "[not remote-help]". The letters of a possible match are held until the
//   match is decided, however long the next output takes (a chunk ending in "[remote-" waits for
//   the next byte): holding them on a timer would let a pause split the prefix past the check.
//   Drawing it with backspaces or across a line wrap is still possible: README says what this
//   mode gives up.

const ESC = 0x1b;
const PREFIX = Buffer.from('[remote-help]');
const DEFACED = Buffer.from('[not remote-help]');
/** Most of a CSI sequence kept to decide it; a longer one is swallowed whole. */
const MAX_CSI = 64;
/** Most spaces or backspaces one cursor move becomes. */
const MAX_MOVE = 256;
/** Most bytes held while a possible prefix is decided (colours between its letters). */
const MAX_HELD = 512;
/** Most of an OSC/DCS/APC/PM string swallowed: one never ended (cat of a binary file) must not
 * hide the rest of the session; what follows shows as text, which does nothing. */
const MAX_STRING = 64 * 1024;

type Mode = 'ground' | 'esc' | 'escInter' | 'csi' | 'csiSkip' | 'string' | 'stringEsc' | 'c2';

export interface PlainFilterOptions {
  /** The terminal takes UTF-8 (else single bytes: 0x80..0x9f are C1 controls). */
  utf8: boolean;
  /** Colours pass (SGR); false for a terminal without them (TERM=dumb). */
  colour: boolean;
}

export class PlainFilter {
  private mode: Mode = 'ground';
  private csi: number[] = [];
  private held: number[] = [];
  private matched = 0;
  private out: number[] = [];
  /** The last thing written was a line feed (or nothing yet): a new line starts here. */
  private lineStart = true;
  private stringLen = 0;
  private stringC2 = false;

  constructor(private readonly o: PlainFilterOptions) {}

  /** Whether what was written so far leaves the cursor at the start of a fresh line (bytes held
   * back are not written yet). */
  get atLineStart(): boolean {
    return this.lineStart;
  }

  /** Filters one chunk; what it returns may be empty (a sequence or a possible prefix pending). */
  push(data: Buffer): Buffer {
    for (const b of data) this.byte(b);
    return this.take();
  }

  /** What is held back (a possible prefix): written as it is, at the end. */
  flush(): Buffer {
    this.release();
    return this.take();
  }

  private take(): Buffer {
    const b = Buffer.from(this.out);
    this.out = [];
    return b;
  }

  private byte(b: number): void {
    switch (this.mode) {
      case 'ground': return this.ground(b);
      case 'c2':
        this.mode = 'ground';
        if (b >= 0x80 && b <= 0x9f) return this.c1(b);
        this.text(0xc2);
        return this.ground(b);
      case 'esc': return this.escape(b);
      case 'escInter':
        if (b >= 0x20 && b <= 0x2f) return;
        this.mode = b === ESC ? 'esc' : 'ground'; // ESC ( B and the like: charsets, dropped
        return;
      case 'csi':
      case 'csiSkip': return this.csiByte(b);
      case 'string': {
        // Ended by BEL, ST (ESC \, 0x9c, or U+009C in UTF-8), or cancelled by CAN or SUB.
        const st = b === 0x9c && (this.o.utf8 ? this.stringC2 : true);
        this.stringC2 = b === 0xc2;
        if (b === 0x07 || b === 0x18 || b === 0x1a || st || ++this.stringLen > MAX_STRING) this.mode = 'ground';
        else if (b === ESC) this.mode = 'stringEsc';
        return;
      }
      case 'stringEsc':
        if (b === 0x5c) return void (this.mode = 'ground'); // ESC \ is ST
        this.mode = 'esc';
        return this.escape(b);
    }
  }

  private ground(b: number): void {
    if (b === ESC) return void (this.mode = 'esc');
    if (b === 0x0d || b === 0x0a || b === 0x08 || b === 0x09) return this.control(b);
    if (b < 0x20 || b === 0x7f) return; // BEL, SO/SI, VT, FF, ENQ...: nothing
    if (this.o.utf8 && b === 0xc2) return void (this.mode = 'c2');
    if (!this.o.utf8 && b >= 0x80 && b <= 0x9f) return this.c1(b);
    this.text(b);
  }

  /** A C1 control (8-bit, or U+0080..U+009F in UTF-8): the start of what its 7-bit form starts. */
  private c1(b: number): void {
    if (b === 0x9b) return this.startCsi();
    if (b === 0x90 || b === 0x9d || b === 0x9e || b === 0x9f || b === 0x98) this.startString();
  }

  private startString(): void {
    this.mode = 'string';
    this.stringLen = 0;
    this.stringC2 = false;
  }

  private escape(b: number): void {
    this.mode = 'ground';
    if (b === 0x5b) return this.startCsi(); // [
    if (b === 0x5d || b === 0x50 || b === 0x5f || b === 0x5e || b === 0x58) return this.startString(); // ] P _ ^ X
    if (b === 0x44 || b === 0x45 || b === 0x4d) return this.newRow(); // IND, NEL, RI
    if (b === ESC) return void (this.mode = 'esc');
    if (b >= 0x20 && b <= 0x2f) return void (this.mode = 'escInter');
    // ESC 7, ESC 8, ESC c, ESC =, ESC > and anything else: dropped.
  }

  private startCsi(): void {
    this.mode = 'csi';
    this.csi = [];
  }

  private csiByte(b: number): void {
    if (b === 0x18 || b === 0x1a) return void (this.mode = 'ground'); // CAN, SUB: cancelled
    if (b === ESC) return void (this.mode = 'esc');
    if (b < 0x20) return; // a control inside: dropped
    if (b >= 0x40 && b <= 0x7e) {
      const skip = this.mode === 'csiSkip';
      this.mode = 'ground';
      if (!skip) this.csiFinal(String.fromCharCode(...this.csi), b);
      return;
    }
    if (this.mode === 'csi' && this.csi.length < MAX_CSI) this.csi.push(b);
    else this.mode = 'csiSkip';
  }

  private csiFinal(body: string, final: number): void {
    // A private marker (< = > ?) or an intermediate byte: modes, queries and reports. Dropped.
    if (!/^[0-9;:]*$/.test(body)) return;
    const n = Math.min(MAX_MOVE, Math.max(1, Number(body.split(';')[0]) || 1));
    switch (String.fromCharCode(final)) {
      case 'm': return this.sgr(body);
      case 'H': case 'f': case 'd': case 'A': case 'B': case 'E': case 'F':
        return this.newRow();
      case 'G': case '`':
        if (n === 1) this.control(0x0d);
        return;
      case 'C':
        for (let i = 0; i < n; i++) this.text(0x20);
        return;
      case 'D':
        for (let i = 0; i < n; i++) this.control(0x08);
        return;
      default:
        return; // erase, scroll, insert, delete, queries (c, n, t, ...): dropped
    }
  }

  /** SGR with conceal (8) and reverse video (7) taken out; colours in both their forms kept. */
  private sgr(body: string): void {
    if (!this.o.colour) return;
    const parts = body.split(';');
    const kept: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      const head = p.split(':')[0];
      if (head === '7' || head === '8') continue;
      if ((p === '38' || p === '48' || p === '58') && (parts[i + 1] === '5' || parts[i + 1] === '2')) {
        const len = parts[i + 1] === '5' ? 3 : 5;
        kept.push(...parts.slice(i, i + len));
        i += len - 1;
        continue;
      }
      kept.push(p);
    }
    if (kept.length === 0) return; // only what was taken out
    this.emitSeq(Buffer.from(`\x1b[${kept.join(';')}m`));
  }

  /** A move to another row: a line break, unless a line has just begun. */
  private newRow(): void {
    if (this.lineStart && this.held.length === 0) return;
    this.release();
    this.control(0x0d);
    this.control(0x0a);
  }

  private control(b: number): void {
    this.release();
    this.out.push(b);
    this.lineStart = b === 0x0a;
  }

  /** An escape sequence we let through: held with a possible prefix, else written. */
  private emitSeq(seq: Buffer): void {
    if (this.matched > 0) {
      this.held.push(...seq);
      if (this.held.length > MAX_HELD) this.release();
    } else this.out.push(...seq);
  }

  /** A byte of text: matched against the prefix, held while it may be one. */
  private text(b: number): void {
    const lower = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
    if (lower === PREFIX[this.matched]) {
      this.held.push(b);
      this.matched++;
      if (this.matched === PREFIX.length) {
        // The whole prefix: its colours kept, its letters replaced.
        const colours = this.held.length > PREFIX.length;
        this.held = [];
        this.matched = 0;
        this.out.push(...DEFACED);
        this.lineStart = false;
        if (colours) this.out.push(...Buffer.from('\x1b[0m'));
      }
      return;
    }
    this.release();
    if (lower === PREFIX[0]) {
      this.held.push(b);
      this.matched = 1;
    } else {
      this.out.push(b);
      this.lineStart = false;
    }
  }

  private release(): void {
    if (this.held.length) {
      this.out.push(...this.held);
      this.lineStart = false;
    }
    this.held = [];
    this.matched = 0;
  }
}
