// The transcript: what happened in the shared shell, kept on the friend's machine as an asciicast
// v2 file (https://docs.asciinema.org/manual/asciicast/v2/) that `asciinema play` and our own
// `remote-help replay` can show. Only the helper's keystrokes are recorded, never the friend's:
// the friend may type a password with echo off.
//
// Checked against asciinema 2.2.0 (Debian): `asciinema cat` and `play` read every line after the
// header with json.loads and unpack it as [time, code, data], then keep only "o" events. So "i",
// "m" and "r" events are accepted as they are, but every line must be one complete JSON array of
// exactly three items: a blank line or a half-written last line stops playback with a traceback.
// That is why each event is one write of one whole line, and a short write is cut back off.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';

export interface Size {
  cols: number;
  rows: number;
}

export interface TranscriptOptions {
  /** Keep it exactly here (no fallback); otherwise REMOTE_HELP_STATE_DIR, then transcriptDirs(). */
  dir?: string;
  /** The directories to try, in order (tests); overrides dir and the environment. */
  candidates?: string[];
  size: Size;
  term: string;
  /** e.g. "remote-help session with alice@laptop" */
  title: string;
  /** Output recorded at most (DEFAULT_MAX_OUTPUT_BYTES). */
  maxOutputBytes?: number;
  /** Most bytes of helper input and markers kept (DEFAULT_MAX_NOTE_BYTES). */
  maxNoteBytes?: number;
  /** Milliseconds since the epoch (tests pass a fake clock). */
  now?: () => number;
  env?: NodeJS.ProcessEnv;
  uid?: number;
}

export interface Transcript {
  readonly path: string;
  /** Why the transcript is not where it is usually kept (read-only disk), in words; else null. */
  readonly note: string | null;
  /** Why recording stopped mid-session (disk full), in words; null while it is fine. */
  readonly error: string | null;
  output(data: Uint8Array | string): void;
  helperInput(data: Uint8Array | string): void;
  resize(size: Size): void;
  marker(label: string): void;
  /** Writes the final marker "session ended: <reason>" and closes the file. */
  close(reason: string): void;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 50 * 1024 * 1024;
/** What the helper typed and the notes together are kept up to this: a helper cannot fill the
 * friend's disk by pasting either. */
export const DEFAULT_MAX_NOTE_BYTES = 10 * 1024 * 1024;
export const ENDED = 'session ended: ';
export const TRANSCRIPT_NAME = /^session-\d{8}-\d{6}-\d+(-\d+)?\.cast$/;

/** Where transcripts are kept, best first; the later ones are for a disk that cannot be written. */
export function transcriptDirs(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? -1): string[] {
  if (env.REMOTE_HELP_STATE_DIR) return [env.REMOTE_HELP_STATE_DIR]; // chosen on purpose: only there
  const tmp = path.join(os.tmpdir(), `remote-help-${uid}`);
  if (uid === 0) return ['/var/log/remote-help', '/run/remote-help', tmp];
  // XDG Base Directory spec: a relative XDG_* path is invalid and must be ignored.
  const abs = (p: string | undefined) => (p && path.isAbsolute(p) ? p : null);
  const state = abs(env.XDG_STATE_HOME) ?? path.join(abs(env.HOME) ?? os.homedir(), '.local', 'state');
  const runtime = abs(env.XDG_RUNTIME_DIR) ?? `/run/user/${uid}`;
  return [path.join(state, 'remote-help'), path.join(runtime, 'remote-help'), tmp];
}

/** Never throws: a transcript that cannot be written must not stop the session. */
export function openTranscript(o: TranscriptOptions): Transcript | { error: string } {
  const env = o.env ?? process.env;
  const uid = o.uid ?? process.getuid?.() ?? -1;
  const dirs = o.candidates ?? (o.dir ? [o.dir] : transcriptDirs(env, uid));
  const now = o.now ?? Date.now;
  const start = now();
  const reasons: string[] = [];
  for (const dir of dirs) {
    try {
      const { fd, file } = create(dir, fileName(start), uid);
      const note = dir === dirs[0] ? null : `Transcripts cannot be kept in ${dirs[0]} (${reasons[0]}), so this one is in ${dir}.`;
      return recorder(fd, file, note, start, now, o, env);
    } catch (err) {
      reasons.push(inWords(err));
    }
  }
  return { error: `No transcript is kept: ${dirs.map((d, i) => `${d} (${reasons[i]})`).join(', ')}.` };
}

function recorder(fd: number, file: string, note: string | null, start: number, now: () => number, o: TranscriptOptions, env: NodeJS.ProcessEnv): Transcript {
  const max = o.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const outText = new StringDecoder('utf8'); // a character split across two chunks comes out whole
  const inText = new StringDecoder('utf8');
  let open = true;
  let error: string | null = null;
  let size = 0; // bytes of whole lines written: a failed write is cut back to here
  let outputBytes = 0;
  let capped = false;
  const maxNotes = o.maxNoteBytes ?? DEFAULT_MAX_NOTE_BYTES;
  let noteBytes = 0;
  let notesCapped = false;
  /** Whether a helper-input or marker event of this size still fits; says so once when not. */
  const notesFit = (bytes: number) => {
    if (!notesCapped && noteBytes + bytes <= maxNotes) {
      noteBytes += bytes;
      return true;
    }
    if (!notesCapped) event('m', `helper input and notes past ${megabytes(maxNotes)} not recorded`);
    notesCapped = true;
    return false;
  };
  let last = 0;

  const line = (text: string) => {
    if (!open) return;
    const buf = Buffer.from(text + '\n', 'utf8');
    try {
      for (let off = 0; off < buf.length; ) off += fs.writeSync(fd, buf, off);
      size += buf.length;
    } catch (err) {
      error = `Recording stopped: ${inWords(err)} (${file}).`;
      try {
        fs.ftruncateSync(fd, size); // no half line: asciinema stops at one
      } catch {
        // The file keeps its half line; `remote-help replay` skips it.
      }
      stop();
    }
  };
  const event = (code: 'o' | 'i' | 'r' | 'm', data: string) => {
    last = Math.max(last, (now() - start) / 1000); // a clock set back must not reorder events
    line(JSON.stringify([Number(last.toFixed(6)), code, data]));
  };
  const stop = () => {
    if (!open) return;
    open = false;
    try {
      fs.closeSync(fd);
    } catch {
      // Already written synchronously; nothing is lost.
    }
  };

  line(JSON.stringify({
    version: 2, width: o.size.cols, height: o.size.rows, timestamp: Math.floor(start / 1000), title: o.title,
    env: { TERM: o.term, SHELL: env.SHELL || '/bin/sh' },
  }));

  return {
    path: file,
    note,
    get error() {
      return error;
    },
    output(data) {
      if (!open) return;
      const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      if (capped || outputBytes + bytes > max) {
        if (!capped) event('m', `output past ${megabytes(max)} not recorded`);
        capped = true;
        return;
      }
      outputBytes += bytes;
      const text = typeof data === 'string' ? data : outText.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      if (text) event('o', text);
    },
    helperInput(data) {
      const text = typeof data === 'string' ? data : inText.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      if (text && notesFit(Buffer.byteLength(text))) event('i', text);
    },
    resize(s) {
      event('r', `${s.cols}x${s.rows}`);
    },
    marker(label) {
      if (notesFit(Buffer.byteLength(label))) event('m', label);
    },
    close(reason) {
      const rest = outText.end();
      if (rest && !capped) event('o', rest);
      event('m', ENDED + reason);
      stop();
    },
  };
}

/** session-YYYYMMDD-HHMMSS-PID.cast, in UTC. */
function fileName(ms: number): string {
  const d = new Date(ms).toISOString(); // 2026-11-23T17:16:34.000Z
  return `session-${d.slice(0, 10).replace(/-/g, '')}-${d.slice(11, 19).replace(/:/g, '')}-${process.pid}`;
}

/** Makes the directory (0700) and a new file in it (0600); throws when either cannot be had. */
function create(dir: string, base: string, uid: number): { fd: number; file: string } {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    // mkdir on a read-only disk can report ENOENT: ask the disk itself why (as app/memory.ts does).
    let d = dir;
    while (!fs.existsSync(d) && d !== path.dirname(d)) d = path.dirname(d);
    fs.accessSync(d, fs.constants.W_OK);
    throw err;
  }
  // The last fallback is in the shared /tmp, where someone else may have made the directory first.
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  if (uid >= 0 && (st.uid !== uid || st.mode & 0o022)) throw Object.assign(new Error('not ours'), { code: 'ENOTOURS' });
  for (let n = 0; ; n++) {
    const file = path.join(dir, `${base}${n ? `-${n}` : ''}.cast`);
    try {
      // 'ax': append, and fail rather than reuse a file (or follow a link) someone left there.
      return { fd: fs.openSync(file, 'ax', 0o600), file };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 100) throw err;
    }
  }
}

function inWords(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'EROFS': return 'the disk is read-only';
    case 'ENOSPC': return 'the disk is full';
    case 'EDQUOT': return 'the disk quota is used up';
    case 'EACCES':
    case 'EPERM': return 'no permission to write there';
    case 'ENOTDIR': return 'part of that path is a file';
    case 'ENOTOURS': return 'the directory belongs to someone else or others can write in it';
    default: return code ?? String((err as Error)?.message ?? err);
  }
}

function megabytes(n: number): string {
  return n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(1)} MB` : `${n} bytes`;
}
