// What the helper's program types into the shared shell to copy a file, and how the lines the
// shell prints back are read (DESIGN.md: files travel "by pasting base64-encoded text", in plain
// view, never on a hidden channel). Pure: both sides use it, the helper's to type and to read what
// it fetches, the friend's to follow a copy on its own shell's output (friend-files.ts).
//
// Every command is one readable line that starts with a space (kept out of the shell's history
// where HISTCONTROL ignores such lines) and uses only what every Debian or Ubuntu install has:
// head, tr, base64, sha256sum, mktemp, mv, chmod, tar, and gzip where the probe finds it. The
// shell prints one result line per step, "remote-help-file ID WORD ...", built from a variable so
// that the echo of the typed command never looks like one. Data typed for a send are lines
// starting with "#": should the receiving command be stopped (Ctrl-C) while some are still on
// their way, the shell reads them as comments and runs nothing.

/** What starts every line the copy's commands print. */
export const MARK = 'remote-help-file';
/** Characters of base64 on one typed line: long lines mean fewer reads for the receiving command
 * (a terminal in canonical mode hands over one line per read), and well below the 4095 bytes a
 * Linux terminal keeps of one line. Printed lines (a fetch) are as long. */
export const LINE_CHARS = 2048;

export interface ToolSet {
  gzip: boolean;
  tar: boolean;
}

/** A shell word for `bytes`: single-quoted when it is printable UTF-8 without a quote, otherwise
 * built by printf from octal escapes (a trailing "x" keeps a final newline, then is cut). */
export function shAssign(name: string, bytes: Buffer): string {
  const text = bytes.toString('utf8');
  // eslint-disable-next-line no-control-regex
  if (Buffer.from(text).equals(bytes) && !/['\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(text)) return `${name}='${text}'`;
  let fmt = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    fmt += b >= 0x20 && b < 0x7f && c !== '\'' && c !== '\\' && c !== '%' ? c : `\\${b.toString(8).padStart(3, '0')}`;
  }
  return `${name}=$(printf '${fmt}x'); ${name}=\${${name}%x}`;
}

/** The probe: prints "remote-help-file ID ready" and the tools the copy may use that are found.
 * A shell at its prompt answers at once; anything else (a program reading the keys) does not. */
export function probeCommand(id: string): string {
  return ` r='${MARK} ${id}'; echo "$r ready" $(command -v base64 sha256sum gzip tar head mktemp)\r`;
}

/** Which tools the probe's answer names; null when one the copy cannot do without is missing. */
export function toolsFrom(rest: string): ToolSet | null {
  const names = new Set(rest.split(/\s+/).map((p) => p.slice(p.lastIndexOf('/') + 1)));
  for (const needed of ['base64', 'sha256sum', 'head', 'mktemp']) if (!names.has(needed)) return null;
  return { gzip: names.has('gzip'), tar: names.has('tar') };
}

export interface SendPlan {
  id: string;
  /** Where it goes on the friend's machine: a directory (then `name` inside it) or a file path. */
  to: Buffer;
  name: Buffer;
  mode: number;
  sha256: string;
  lines: number;
  gzip: boolean;
}

/** The command that receives a send: `lines` data lines into a temporary file next to where it
 * goes, checked against the SHA-256, given its mode, then moved to a name that is free (NAME, or
 * NAME.1, NAME.2 ...). Ctrl-C removes the temporary file. It prints
 *   remote-help-file ID receiving                   when the lines may come (the terminal reads
 *                                                   whole lines again: typed earlier, at the
 *                                                   shell's prompt, they would not arrive as lines)
 *   remote-help-file ID sent N SIZE SHA256 PATH     or    ... stopped / ... failed WHY */
export function sendCommand(p: SendPlan): string {
  const mode = (p.mode & 0o777).toString(8);
  return [
    ` ( r='${MARK} ${p.id}'; ${shAssign('d', p.to)}; ${shAssign('f', p.name)}`,
    `test -d "$d" && d="\${d%/}/$f"; cd -- "$(dirname -- "$d")" || { echo "$r failed no such folder"; exit 1; }; d=$(basename -- "$d")`,
    `t=$(mktemp .remote-help-XXXXXX) || { echo "$r failed cannot write here"; exit 1; }`,
    `trap 'rm -f -- "$t"' EXIT; trap 'echo; echo "$r stopped"; exit 130' INT`,
    `echo "$r receiving"; head -n ${p.lines} | tr -d '#' | base64 -d ${p.gzip ? '| gzip -dc ' : ''}>"$t" || { echo "$r failed decoding"; exit 1; }`,
    `echo "${p.sha256}  $t" | sha256sum -c --status || { echo "$r failed checksum"; exit 1; }`,
    `chmod ${mode} "$t"; n=0; g=$d; while test -e "$g" || test -L "$g"; do n=$((n+1)); g=$d.$n; done`,
    `mv -n -- "$t" "$g" && echo "$r sent $n $(wc -c <"$g") ${p.sha256} $PWD/$g" )\r`,
  ].join('; ');
}

/** The data of a send as typed lines, "#" and up to LINE_CHARS of base64, each ending in Enter. */
export function dataLines(data: Buffer): string[] {
  const b64 = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += LINE_CHARS) lines.push(`#${b64.slice(i, i + LINE_CHARS)}\r`);
  if (lines.length === 0) lines.push('#\r');
  return lines;
}

/** The command that prints a file (or, as a tar stream, a directory) for a fetch:
 *   remote-help-file ID begin SIZE MODE file|dir gzip|plain
 *   base64 lines
 *   remote-help-file ID end SHA256        (of the file's bytes, or of the tar stream)
 * or "... failed WHY" / "... stopped"; "... failed too-big SIZE" when there is more than `limit`
 * (the helper is asked, and the command typed again without it). The data are read twice (once for the SHA-256): a file
 * that changes meanwhile fails the check instead of arriving half old, half new. */
export function fetchCommand(id: string, from: Buffer, tools: ToolSet, limit: number | null): string {
  const pack = `${tools.gzip ? 'gzip -1c | ' : ''}base64 -w ${LINE_CHARS}`;
  const kind = tools.gzip ? 'gzip' : 'plain';
  const dir = tools.tar
    ? `if test -d "$f"; then src() { tar -C "$(dirname -- "$f")" -cf - -- "$(basename -- "$f")"; }; k=dir; s=$(src | wc -c)`
    : 'if false; then :';
  return [
    ` ( r='${MARK} ${id}'; ${shAssign('f', from)}; trap 'echo; echo "$r stopped"; exit 130' INT`,
    `${dir}; elif test -f "$f" && test -r "$f"; then src() { cat -- "$f"; }; k=file; s=$(wc -c <"$f")`,
    `else echo "$r failed not a readable file or folder"; exit 1; fi`,
    ...(limit === null ? [] : [`if test "$s" -gt ${limit}; then echo "$r failed too-big $s"; exit 1; fi`]),
    `echo "$r begin $s $(stat -c %a -- "$f") $k ${kind}"; src | ${pack} || exit 1; echo "$r end $(src | sha256sum | cut -c1-64)" )\r`,
  ].join('; ');
}

export type FileLine =
  | { word: 'ready'; tools: ToolSet | null }
  | { word: 'receiving' }
  | { word: 'sent'; suffix: number; size: number; sha256: string; path: string }
  | { word: 'begin'; size: number; mode: number; kind: 'file' | 'dir'; gzip: boolean }
  | { word: 'end'; sha256: string }
  | { word: 'stopped' }
  | { word: 'failed'; why: string };

/** One line of the shell's output (without its line ending) read for copy `id`; null when it is
 * not one of its result lines. */
export function parseFileLine(line: string, id: string): FileLine | null {
  const head = `${MARK} ${id} `;
  // Anywhere in the line: a line typed half-way when Ctrl-C came may stand before it. The echo of
  // a command never has the mark followed by a space (it names a variable there).
  const at = line.lastIndexOf(head);
  if (at < 0) return null;
  const rest = line.slice(at + head.length).replace(/\r+$/, '');
  const [word, ...args] = rest.split(' ');
  const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : NaN);
  switch (word) {
    case 'ready': return { word, tools: toolsFrom(args.join(' ')) };
    case 'stopped':
    case 'receiving': return { word };
    case 'failed': return { word, why: args.join(' ') };
    case 'end': return /^[0-9a-f]{64}$/.test(args[0] ?? '') ? { word, sha256: args[0] } : null;
    case 'sent': {
      const [suffix, size] = [num(args[0]), num(args[1])];
      if (!Number.isFinite(suffix) || !Number.isFinite(size) || !/^[0-9a-f]{64}$/.test(args[2] ?? '')) return null;
      return { word, suffix, size, sha256: args[2], path: args.slice(3).join(' ') };
    }
    case 'begin': {
      const [size, mode] = [num(args[0]), parseInt(args[1] ?? '', 8)];
      if (!Number.isFinite(size) || !Number.isFinite(mode) || !['file', 'dir'].includes(args[2]) || !['gzip', 'plain'].includes(args[3])) return null;
      return { word, size, mode, kind: args[2] as 'file' | 'dir', gzip: args[3] === 'gzip' };
    }
    default: return null;
  }
}

/** Splits a byte stream into lines (at LF; the CR before it is kept for the caller to drop),
 * holding at most `max` bytes of an unfinished line (longer ones are cut and marked). */
export class Lines {
  private part: Buffer[] = [];
  private held = 0;
  private overlong = false;
  constructor(private readonly max = 4096) {}

  push(data: Buffer, each: (line: Buffer, overlong: boolean) => void): void {
    let from = 0;
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, from)) {
      let line: Buffer;
      let overlong = nl - from > this.max;
      if (this.part.length === 0) line = data.subarray(from, Math.min(nl, from + this.max)); // a whole line: no copy
      else {
        this.keep(data.subarray(from, nl));
        line = this.part.length === 1 ? this.part[0] : Buffer.concat(this.part);
        overlong = this.overlong;
      }
      this.part = [];
      this.held = 0;
      this.overlong = false;
      each(line, overlong);
      from = nl + 1;
    }
    this.keep(data.subarray(from));
  }

  private keep(b: Buffer): void {
    if (b.length === 0) return;
    const room = this.max - this.held;
    if (b.length > room) this.overlong = true;
    const kept = b.length > room ? b.subarray(0, Math.max(0, room)) : b;
    if (kept.length === 0) return;
    this.part.push(Buffer.from(kept));
    this.held += kept.length;
  }
}
