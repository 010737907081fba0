// `remote-help transcripts`: what is kept, newest first; and reading transcript files, which
// `remote-help replay` (replay.ts) shares. Files come from src/session/transcript.ts and may be cut
// short: a session killed mid-write leaves a last line that is not whole.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HelpError } from '../errors';
import { formatDuration } from '../duration';
import { ENDED, TRANSCRIPT_NAME, transcriptDirs } from '../session/transcript';

export const STILL_RUNNING = '(still running or interrupted)';
const EDGE = 64 * 1024; // how much of each end of a file the list reads

interface Summary {
  file: string;
  start: Date;
  seconds: number;
  bytes: number;
  title: string;
  ended: string;
}

export function listTranscripts(dirs: string[] = transcriptDirs(), out: NodeJS.WritableStream = process.stdout): void {
  const files = [...new Set(dirs)].flatMap((dir) => {
    try {
      return fs.readdirSync(dir).filter((n) => TRANSCRIPT_NAME.test(n)).map((n) => path.join(dir, n));
    } catch {
      return []; // not made yet, or not ours to read
    }
  });
  if (files.length === 0) {
    out.write(`No transcripts yet. They are kept in ${dirs[0]}.\n`);
    return;
  }
  const found = files.map(summarize);
  const when = (s: Summary | string) => (typeof s === 'string' ? 0 : s.start.getTime());
  found.sort((a, b) => when(b) - when(a));
  out.write(`${files.length} transcript${files.length === 1 ? '' : 's'}, newest first:\n`);
  for (const s of found) {
    if (typeof s === 'string') out.write(`\n${s}\n`);
    else
      out.write(`\n${s.file}\n  started ${localTime(s.start)}, lasted ${formatDuration(s.seconds * 1000, 'brief')}, ${kilobytes(s.bytes)}\n` +
        `  ${printable(s.title)}\n  ${s.ended === STILL_RUNNING ? s.ended : ENDED + printable(s.ended)}\n`);
  }
}

/** What the list shows of one file, or one line saying why it cannot be shown. */
function summarize(file: string): Summary | string {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const bytes = fs.fstatSync(fd).size;
    const head = readAt(fd, 0, Math.min(bytes, EDGE));
    const header = parseHeader(head.slice(0, head.indexOf('\n') + 1 || undefined));
    if (!header) return `${file}: damaged (it does not start like a transcript)`;
    let seconds = 0;
    let ended = STILL_RUNNING;
    const tail = readAt(fd, Math.max(0, bytes - EDGE), Math.min(bytes, EDGE)).split('\n');
    for (const e of tail.map(parseEvent)) {
      if (!e) continue; // the header, a line cut by the window, or a half-written last line
      seconds = Math.max(seconds, e[0]);
      if (e[1] === 'm' && e[2].startsWith(ENDED)) ended = e[2].slice(ENDED.length);
    }
    const start = typeof header.timestamp === 'number' ? new Date(header.timestamp * 1000) : fs.fstatSync(fd).mtime;
    return { file, start, seconds, bytes, title: typeof header.title === 'string' ? header.title : '(no title)', ended };
  } catch (err) {
    return `${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

export interface Header {
  width: number;
  height: number;
  timestamp?: unknown;
  title?: unknown;
}

export function openForReplay(file: string): { fd: number; headerBytes: number; header: Header } {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const head = readAt(fd, 0, EDGE);
    const end = head.indexOf('\n');
    const header = end > 0 ? parseHeader(head.slice(0, end)) : null;
    if (header) return { fd, headerBytes: Buffer.byteLength(head.slice(0, end + 1)), header };
  } catch (err) {
    if (fd !== null) fs.closeSync(fd);
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'no permission to read it' : code;
    throw new HelpError('usage', `Cannot replay ${file}: ${why}.`, 'See the list with: remote-help transcripts');
  }
  fs.closeSync(fd);
  throw new HelpError('usage', `Cannot replay ${file}: it is not a transcript (asciicast v2).`, 'See the list with: remote-help transcripts');
}

function readAt(fd: number, position: number, length: number): string {
  const buf = Buffer.alloc(length);
  return buf.toString('utf8', 0, fs.readSync(fd, buf, 0, length, position));
}

function parseHeader(line: string): Header | null {
  try {
    const h = JSON.parse(line);
    return h && h.version === 2 && Number.isInteger(h.width) && Number.isInteger(h.height) ? h : null;
  } catch {
    return null;
  }
}

export function parseEvent(line: string): [number, string, string] | null {
  try {
    const e = JSON.parse(line);
    return Array.isArray(e) && e.length === 3 && typeof e[0] === 'number' && typeof e[1] === 'string' && typeof e[2] === 'string' ? e as [number, string, string] : null;
  } catch {
    return null;
  }
}

/** Titles and markers hold names the helper chose: no control characters reach the terminal. */
export function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
}

function localTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function kilobytes(n: number): string {
  return n < 1000 ? `${n} bytes` : n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`;
}
