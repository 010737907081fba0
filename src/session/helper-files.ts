// A copy through the shared shell, on the helper's side: ~s sends a file, ~g fetches a file or a
// folder (helper-session.ts asks for the paths). Everything travels as text typed into or printed
// by the shell, in the friend's view (files-script.ts); nothing is typed before the friend's
// program says the shell is at its prompt and the helper may type, and a fetch waits for the
// friend's yes. A send is typed no further ahead of the shell's echo than WINDOW bytes, so Ctrl-C
// stops it at once; a fetch is read from the session's output, checked against the SHA-256 the
// friend's shell prints, and only then written here (to a temporary name, then moved in place).
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { FileToFriend, FileToHelper, FileWay } from '../net/control';
import type { Clock } from './clock';
import { basename, lastWords, save, showPath, size, statOf, Stopped } from './files-local';
import { dataLines, fetchCommand, Lines, MARK, parseFileLine, probeCommand, sendCommand, type FileLine, type ToolSet } from './files-script';

export interface HelperFilesOptions {
  clock: Clock;
  /** Types into the shared shell; false when nothing can be typed now (and why was said). */
  type(text: string): boolean;
  tell(msg: FileToFriend): void;
  say(text: string): void;
  /** Asks the helper a yes or no question on the status line. */
  ask(question: string, then: (yes: boolean) => void): void;
  /** A copy ended: well (what was said), or not (why). */
  ended?(detail: { way: FileWay; name: string; ok: boolean; text: string }): void;
  /** Something on the status line changed (the copy's progress). */
  dirty(): void;
  /** The helper's folder, for a fetch saved without a path. */
  cwd: string;
  /** Bigger than this asks the helper first. */
  limit: number;
}

export interface HelperFiles {
  start(way: FileWay, from: Buffer, to: Buffer | null): void;
  fromFriend(msg: FileToHelper): void;
  /** The shell's output as it reaches the helper. */
  output(data: Buffer): void;
  /** The helper pressed Ctrl-C during a copy. */
  interrupt(): void;
  /** The friend gave or took the keyboard. */
  keyboard(allowed: boolean): void;
  busy(): boolean;
  /** The copy's progress for the status line, or null. */
  status(): string | null;
  stop(): void;
}

/** Bytes typed ahead of the shell's echo at most, and at most in one write. */
const WINDOW = 32 * 1024;
const BATCH = 8 * 1024;
const ANSWER_MS = 20_000;
/** A fetch waits this long for the friend's y or n. */
const FRIEND_ANSWER_MS = 100_000;
const PROBE_MS = 10_000;
/** A copy that hears nothing for this long has failed. */
const QUIET_MS = 30_000;
const BASE64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;

interface Run {
  id: string;
  way: FileWay;
  name: string;
  /** What the friend's program and shell say next, waited for. */
  waiting: { want(m: FileToHelper | FileLine): boolean; resolve(v: FileToHelper | FileLine): void; reject(e: Error): void; timer: unknown; ms: number; late: string } | null;
  stopped: string | null;
  progress: { done: number; total: number | null; since: number };
  echoed: number;
  typed: number;
  onEcho: (() => void) | null;
  lines: Lines;
  /** A fetch's data, as the shell printed it (null before its begin line), and whether more is
   * read (from the begin line to the last). */
  data: Buffer[] | null;
  receiving: boolean;
  begin: Extract<FileLine, { word: 'begin' }> | null;
}

export function helperFiles(o: HelperFilesOptions): HelperFiles {
  let run: Run | null = null;

  const cancel = (r: Run, why: string) => {
    if (r.stopped) return;
    r.stopped = why;
    if (r.waiting) {
      o.clock.clearTimeout(r.waiting.timer);
      r.waiting.reject(new Stopped(why));
      r.waiting = null;
    }
    r.onEcho?.();
  };

  /** The next message or shell line `want` accepts, within `ms`. */
  const next = <T extends FileToHelper | FileLine>(r: Run, want: (m: FileToHelper | FileLine) => boolean, ms: number, late: string) =>
    new Promise<T>((resolve, reject) => {
      if (r.stopped) return reject(new Stopped(r.stopped));
      const timer = o.clock.setTimeout(() => cancel(r, late), ms);
      r.waiting = { want, resolve: resolve as (v: FileToHelper | FileLine) => void, reject, timer, ms, late };
    });

  /** Data arrived: what is waited for may take its time again (a wait is for silence, not for
   * the whole of a long copy). */
  const touch = (r: Run) => {
    const w = r.waiting;
    if (!w) return;
    o.clock.clearTimeout(w.timer);
    w.timer = o.clock.setTimeout(() => cancel(r, w.late), w.ms);
  };

  const offer = (r: Run, m: FileToHelper | FileLine) => {
    const w = r.waiting;
    // The shell's last word ends the copy whatever is waited for (typing, the echo, the data).
    if ((!w || !w.want(m)) && 'word' in m && (m.word === 'stopped' || m.word === 'failed')) return cancel(r, lastWords(m));
    if (!w || !w.want(m)) return;
    r.waiting = null;
    o.clock.clearTimeout(w.timer);
    w.resolve(m);
  };

  /** More of the shell's echo, or silence for QUIET_MS (then the copy is stopped). */
  const echo = (r: Run) => new Promise<void>((resolve) => {
    const timer = o.clock.setTimeout(() => cancel(r, 'The shell stopped taking what is typed (is it still there?). Nothing more is typed.'), QUIET_MS);
    r.onEcho = () => {
      o.clock.clearTimeout(timer);
      resolve();
    };
  });

  const type = (r: Run, text: string) => {
    if (r.stopped) throw new Stopped(r.stopped);
    if (!o.type(text)) throw new Stopped('Nothing could be typed: the copy is stopped.');
    r.typed += Buffer.byteLength(text);
  };

  /** The friend's program's yes, and the shell's answer to the probe: the tools it has. */
  async function opening(r: Run, askMs: number): Promise<ToolSet> {
    o.tell({ t: 'file', id: r.id, way: r.way, name: r.name });
    const a = await next<FileToHelper>(r, (m) => 'answer' in m && m.answer !== undefined, askMs,
      r.way === 'fetch' ? 'Your friend did not answer.' : 'Your friend\'s program did not answer.');
    if (a.answer !== 'yes') throw new Stopped(a.text ?? 'Your friend\'s program said no.');
    type(r, probeCommand(r.id));
    const ready = await next<Extract<FileLine, { word: 'ready' }>>(r, (m) => 'word' in m && m.word === 'ready', PROBE_MS,
      'The shell did not answer the probe line (is a program waiting for input?). Nothing more is typed.');
    if (!ready.tools) throw new Stopped('Your friend\'s computer lacks base64, sha256sum, head or mktemp: nothing can be copied this way.');
    return ready.tools;
  }

  /** The shell's last word on the copy. */
  async function outcome(r: Run): Promise<FileLine> {
    const last = await next<FileLine>(r, (m) => 'word' in m && ['sent', 'end', 'stopped', 'failed'].includes(m.word), QUIET_MS, 'The shell stopped answering during the copy.');
    if (last.word === 'stopped' || last.word === 'failed') throw new Stopped(lastWords(last));
    return last;
  }

  async function send(r: Run, local: Buffer, to: Buffer | null): Promise<string> {
    const st = statOf(local);
    if (!st.isFile()) throw new Stopped(`${showPath(local)} is not a file: only files can be sent (folders can be fetched).`);
    if (st.size > o.limit && !(await yes(`${r.name} is ${size(st.size)}, more than ${size(o.limit)}. Send it anyway?`))) throw new Stopped('Nothing sent.');
    const data = fs.readFileSync(local);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const tools = await opening(r, ANSWER_MS);
    const packed = tools.gzip ? gzipSync(data, { level: 6 }) : null;
    const gzip = packed !== null && packed.length < data.length * 0.9;
    const lines = dataLines(gzip ? packed : data);
    type(r, sendCommand({ id: r.id, to: to ?? Buffer.from('.'), name: basename(local), mode: st.mode, sha256, lines: lines.length, gzip }));
    const go = await next<FileLine>(r, (m) => 'word' in m && ['receiving', 'failed'].includes(m.word), PROBE_MS, 'The shell did not start the command that receives the file. Nothing more is typed.');
    if (go.word === 'failed') throw new Stopped(lastWords(go));
    r.progress = { done: 0, total: data.length, since: o.clock.now() };
    let percent = -1;
    // Typed in batches of whole lines, as much as the window has room for (one SSH packet each,
    // not one a line).
    for (let i = 0; i < lines.length;) {
      while (r.typed - r.echoed > WINDOW - BATCH && !r.stopped) await echo(r);
      let batch = '';
      for (; i < lines.length && batch.length < BATCH; i++) batch += lines[i];
      type(r, batch);
      r.progress.done = Math.round((data.length * i) / lines.length);
      const now = Math.floor((100 * i) / lines.length);
      if (now !== percent) {
        percent = now;
        o.tell({ t: 'file', id: r.id, percent });
        o.dirty();
      }
    }
    const last = await outcome(r);
    const text = last.word === 'sent' ? `Sent ${r.name} (${size(last.size)}, SHA-256 checked) to ${last.path} on your friend's computer.` : 'Sent.';
    o.say(text);
    return text;
  }

  async function fetch(r: Run, remote: Buffer, local: Buffer | null): Promise<string> {
    const target = local ? path.resolve(o.cwd, local.toString('latin1')) : path.join(o.cwd, basename(remote).toString('latin1'));
    const where = Buffer.from(target, 'latin1');
    if (fs.existsSync(where) && !(await yes(`${showPath(where)} exists here. Replace it?`))) throw new Stopped('Nothing fetched: the file here is kept.');
    const tools = await opening(r, FRIEND_ANSWER_MS);
    let begin: FileLine;
    for (let limit: number | null = o.limit; ; limit = null) {
      type(r, fetchCommand(r.id, remote, tools, limit));
      begin = await next<FileLine>(r, (m) => 'word' in m && ['begin', 'failed', 'stopped'].includes(m.word), QUIET_MS, 'The shell did not start the copy.');
      const big = begin.word === 'failed' && limit !== null ? /^too-big (\d+)$/.exec(begin.why) : null;
      if (!big) break;
      if (!(await yes(`${r.name} is ${size(Number(big[1]))}, more than ${size(o.limit)}. Fetch it anyway?`))) throw new Stopped('Nothing fetched.');
    }
    if (begin.word === 'stopped' || begin.word === 'failed') throw new Stopped(lastWords(begin));
    if (begin.word !== 'begin') throw new Stopped('The shell did not start the copy.');
    const end = await outcome(r);
    if (end.word !== 'end' || !r.data) throw new Stopped('The copy did not end as it should.');
    const packed = Buffer.concat(r.data);
    const data = begin.gzip ? gunzipSync(packed) : packed;
    const sha = createHash('sha256').update(data).digest('hex');
    if (sha !== end.sha256) throw new Stopped('The copy arrived damaged (its SHA-256 differs: did something else print or type during it?). Nothing was saved.');
    save(where, data, begin);
    const text = `Fetched ${r.name} (${size(begin.size)}, SHA-256 checked) to ${showPath(where)}.`;
    o.say(text);
    return text;
  }

  const yes = (question: string) => new Promise<boolean>((resolve) => o.ask(question, resolve));

  function dataLine(r: Run, line: Buffer) {
    const text = line.toString('latin1').replace(/\r+$/, '');
    const parsed = parseFileLine(text, r.id);
    if (parsed?.word === 'begin' && !r.data) {
      // Set at once: the data lines may be in the same read.
      r.begin = parsed;
      r.data = [];
      r.receiving = true;
      r.progress = { done: 0, total: parsed.size, since: o.clock.now() };
    } else if (parsed) r.receiving = false;
    if (parsed) return offer(r, parsed);
    if (!r.receiving || !r.data) return;
    if (!BASE64_LINE.test(text)) return cancel(r, 'Something else was printed in the middle of the copy, so it cannot be trusted. Nothing was saved; try again.');
    const bytes = Buffer.from(text, 'base64');
    r.data.push(bytes);
    touch(r);
    r.progress.done += r.begin?.gzip ? 0 : bytes.length;
    o.dirty();
  }

  return {
    start(way, from, to) {
      if (run) return o.say('A copy is on its way already: wait for it to end (Ctrl-C stops it).');
      const r: Run = {
        id: randomBytes(4).toString('hex'), way, name: showPath(basename(from)), waiting: null, stopped: null,
        progress: { done: 0, total: null, since: o.clock.now() }, echoed: 0, typed: 0, onEcho: null, lines: new Lines(), data: null, receiving: false, begin: null,
      };
      run = r;
      o.say(way === 'send' ? `Sending ${r.name}...` : `Asking your friend to allow copying ${r.name}...`);
      (way === 'send' ? send(r, from, to) : fetch(r, from, to))
        .then((text) => o.ended?.({ way, name: r.name, ok: true, text }), (e: Error) => {
          const text = e instanceof Stopped ? e.message : `The copy failed: ${e.message}`;
          o.say(text);
          o.ended?.({ way, name: r.name, ok: false, text });
        })
        .finally(() => {
          o.tell({ t: 'file', id: r.id, stop: true });
          cancel(r, 'over');
          if (run === r) run = null;
          o.dirty();
        });
    },
    fromFriend(msg) {
      const r = run;
      if (!r || msg.id !== r.id) return;
      if (msg.echoed !== undefined) {
        r.echoed = Math.max(r.echoed, msg.echoed);
        const wake = r.onEcho;
        r.onEcho = null;
        wake?.();
      }
      if (msg.answer !== undefined) offer(r, msg);
      // A fetch's begin and end count only in the output, where its data are.
      const parsed = msg.line === undefined ? null : parseFileLine(`${MARK} ${r.id} ${msg.line}`, r.id);
      if (parsed && (r.way === 'send' || !['begin', 'end'].includes(parsed.word))) offer(r, parsed);
    },
    output(data) {
      const r = run;
      if (r?.way === 'fetch') r.lines.push(data, (line) => run === r && dataLine(r, line));
    },
    interrupt() {
      const r = run;
      if (!r) return;
      // Before anything is typed there is nothing to stop in the shell.
      if (r.typed === 0) return cancel(r, 'Copy cancelled: nothing was typed.');
      if (o.type('\x03')) o.say('Ctrl-C typed in the shell: the copy stops.');
    },
    keyboard(allowed) {
      if (!allowed && run) cancel(run, 'Your friend took the keyboard: the copy is stopped.');
    },
    busy: () => run !== null,
    status() {
      const r = run;
      if (!r || r.progress.done === 0) return null;
      const secs = Math.max(0.001, (o.clock.now() - r.progress.since) / 1000);
      const rate = r.progress.done / secs;
      const { done, total } = r.progress;
      const left = total && rate > 0 ? `, ${Math.ceil((total - done) / rate)} s left` : '';
      return `${r.way === 'send' ? 'Sending' : 'Fetching'} ${r.name}: ${size(done)}${total ? ` of ${size(total)}` : ''}, ${size(rate)}/s${left}; Ctrl-C stops it`;
    },
    stop() {
      if (run) cancel(run, 'The session ended.');
    },
  };
}
