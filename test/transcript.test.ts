// Transcripts on the friend's machine: asciicast v2 files that the real asciinema (2.2.0 on
// Debian) plays, written line by line so a killed session still leaves a playable file; and the
// `transcripts` and `replay` commands through the real CLI.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as pty from '@lydell/node-pty';
import { openTranscript, transcriptDirs, type Transcript, type TranscriptOptions } from '../src/session/transcript';
import { BIN, NODE, ROOT, screenText, tempDir } from './harness';
import { VirtualScreen } from '../src/session/screen';

const ASCIINEMA = '/usr/bin/asciinema';
const noAsciinema = fs.existsSync(ASCIINEMA) ? false : `${ASCIINEMA} is not installed (CI installs it: apt-get install asciinema)`;
const isRoot = process.getuid?.() === 0;

function open(o: Partial<TranscriptOptions> = {}): Transcript {
  let ms = 1_795_000_000_000;
  const t = openTranscript({ dir: tempDir(), size: { cols: 80, rows: 24 }, term: 'xterm', title: 'remote-help session with alice@laptop', now: () => (ms += 250), ...o });
  if (!('path' in t)) throw new Error(t.error);
  return t;
}

const lines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const events = (file: string): [number, string, string][] => lines(file).slice(1);

/** `asciinema cat` reads /dev/tty, so it runs in a pty; resolves with what it printed and its status. */
function asciinemaCat(file: string): Promise<{ text: string; status: number }> {
  return new Promise((resolve) => {
    const p = pty.spawn(ASCIINEMA, ['cat', file], { cols: 80, rows: 24, env: { ...process.env, TERM: 'xterm' } as Record<string, string> });
    let text = '';
    p.onData((d) => (text += d));
    p.onExit(({ exitCode }) => resolve({ text, status: exitCode }));
  });
}

function cli(args: string[], env: Record<string, string>) {
  const r = spawnSync(NODE, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  // bin/remote-help runs the compiled dist/cli.js (`npm test` builds it first); build when stale.
  const built = (f: string) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0);
  const sources = ['src/cli.ts', 'src/app/transcripts.ts', 'src/session/transcript.ts'].map((f) => fs.statSync(path.join(ROOT, f)).mtimeMs);
  if (built(path.join(ROOT, 'dist/app/transcripts.js')) < Math.max(...sources)) spawnSync('npx', ['--no-install', 'tsc', '-p', '.'], { cwd: ROOT, stdio: 'ignore' });
});

test('a transcript is a file asciinema cat plays, holding the output', { skip: noAsciinema }, async () => {
  const t = open();
  t.marker('helper connected: alice@laptop');
  t.output('hello from the shell\r\n');
  t.helperInput('ls\r');
  t.resize({ cols: 100, rows: 30 });
  t.output(Buffer.from('\x1b[1mbold\x1b[0m done\r\n'));
  t.close('hotkey');
  const { text, status } = await asciinemaCat(t.path);
  assert.equal(status, 0, text);
  assert.match(text, /hello from the shell/);
  assert.match(text, /bold\x1b\[0m done/);
  assert.doesNotMatch(text, /Traceback|session ended/);
});

test('the header and every event are one JSON line each: o, i, r and m with rising times', () => {
  const t = open({ size: { cols: 120, rows: 40 }, term: 'linux', env: { SHELL: '/bin/zsh' } });
  t.output('$ ');
  t.helperInput(Buffer.from('ls\r'));
  t.resize({ cols: 100, rows: 30 });
  t.marker('keyboard taken by the friend');
  t.close('hotkey');
  const [header, ...rest] = lines(t.path);
  assert.deepEqual(Object.keys(header), ['version', 'width', 'height', 'timestamp', 'title', 'env']);
  assert.deepEqual([header.version, header.width, header.height, header.env], [2, 120, 40, { TERM: 'linux', SHELL: '/bin/zsh' }]);
  assert.ok(Number.isInteger(header.timestamp));
  assert.deepEqual(rest.map((e) => [e[1], e[2]]), [
    ['o', '$ '], ['i', 'ls\r'], ['r', '100x30'], ['m', 'keyboard taken by the friend'], ['m', 'session ended: hotkey'],
  ]);
  const times = rest.map((e) => e[0]);
  assert.deepEqual(times, [...times].sort((a, b) => a - b));
  for (const s of times) assert.match(String(s), /^\d+(\.\d{1,6})?$/);
  assert.match(path.basename(t.path), /^session-\d{8}-\d{6}-\d+\.cast$/);
  assert.equal(fs.statSync(t.path).mode & 0o777, 0o600);
});

test('a UTF-8 character split across two output chunks is recorded whole', () => {
  const t = open();
  const euro = Buffer.from('a€b'); // 61 e2 82 ac 62
  for (let cut = 1; cut < euro.length; cut++) {
    t.output(euro.subarray(0, cut));
    t.output(euro.subarray(cut));
  }
  t.output(Buffer.from([0xe2, 0x82])); // cut off by the end of the session: replaced, not lost
  t.close('shell ended');
  const text = events(t.path).filter((e) => e[1] === 'o').map((e) => e[2]).join('');
  assert.equal(text, 'a€b'.repeat(euro.length - 1) + '\ufffd');
});

test('output past the size bound is not recorded, with one marker saying so; helper input and markers still are', () => {
  const t = open({ maxOutputBytes: 10 });
  t.output('abcdefgh');
  t.output('ijk');
  t.output('l');
  t.helperInput('x');
  t.marker('helper disconnected');
  t.close('hotkey');
  assert.deepEqual(events(t.path).map((e) => [e[1], e[2]]), [
    ['o', 'abcdefgh'], ['m', 'output past 10 bytes not recorded'], ['i', 'x'], ['m', 'helper disconnected'], ['m', 'session ended: hotkey'],
  ]);
});

test('what the helper typed and the notes past their bound are not recorded, with one marker saying so; the ending still is', () => {
  const t = open({ maxNoteBytes: 12 });
  t.helperInput('ls -la\r'); // 7 bytes
  t.marker('hello'); // 12
  t.helperInput('rm -rf /tmp/x\r'); // past the bound
  t.marker('another note');
  t.output('still recorded');
  t.close('hotkey');
  assert.deepEqual(events(t.path).map((e) => [e[1], e[2]]), [
    ['i', 'ls -la\r'], ['m', 'hello'], ['m', 'helper input and notes past 12 bytes not recorded'], ['o', 'still recorded'], ['m', 'session ended: hotkey'],
  ]);
});

test('a session killed with SIGKILL leaves a transcript asciinema cat plays', { skip: noAsciinema }, async () => {
  const dir = tempDir();
  const code = `
    const { openTranscript } = require('./src/session/transcript');
    const t = openTranscript({ dir: ${JSON.stringify(dir)}, size: { cols: 80, rows: 24 }, term: 'xterm', title: 'killed' });
    t.output('before the kill\\r\\n');
    t.marker('helper connected: alice@laptop');
    process.stdout.write(t.path + '\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const file = await new Promise<string>((resolve) => child.stdout.on('data', (d) => resolve(String(d).trim())));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  assert.deepEqual(events(file).map((e) => e[1]), ['o', 'm']);
  const { text, status } = await asciinemaCat(file);
  assert.equal(status, 0, text);
  assert.match(text, /before the kill/);
});

test('where transcripts go: the state directory, then the runtime directory, then /tmp; REMOTE_HELP_STATE_DIR alone', () => {
  assert.deepEqual(transcriptDirs({ XDG_STATE_HOME: '/s', XDG_RUNTIME_DIR: '/r' }, 1000).slice(0, 2), ['/s/remote-help', '/r/remote-help']);
  assert.deepEqual(transcriptDirs({ HOME: '/home/f', XDG_STATE_HOME: 'relative' }, 1000).slice(0, 2), ['/home/f/.local/state/remote-help', '/run/user/1000/remote-help']);
  assert.deepEqual(transcriptDirs({ XDG_STATE_HOME: '/s' }, 0).slice(0, 2), ['/var/log/remote-help', '/run/remote-help']);
  assert.match(transcriptDirs({}, 1000)[2], /remote-help-1000$/);
  assert.deepEqual(transcriptDirs({ REMOTE_HELP_STATE_DIR: '/x' }, 0), ['/x']);
});

test('when the state directory cannot be written, the transcript falls back and says where it is', () => {
  const base = tempDir();
  let state: string;
  if (isRoot) {
    // chmod does not stop root: a path under a plain file fails (ENOTDIR) for everyone.
    fs.writeFileSync(path.join(base, 'file'), '');
    state = path.join(base, 'file', 'sub');
  } else {
    state = path.join(base, 'ro');
    fs.mkdirSync(state, { mode: 0o500 });
  }
  const first = transcriptDirs({ XDG_STATE_HOME: state }, 1000)[0];
  const fallback = path.join(base, 'runtime', 'remote-help');
  const t = open({ dir: undefined, candidates: [first, fallback] });
  assert.equal(path.dirname(t.path), fallback);
  assert.match(t.note ?? '', /cannot be kept in .*(part of that path is a file|no permission).* so this one is in /);
  t.close('hotkey');
  assert.equal(fs.statSync(fallback).mode & 0o777, 0o700);
  assert.equal(events(t.path).length, 1);
});

test('on a read-only disk (EROFS) the transcript falls back; with nowhere to write it is an error value, not a throw', { skip: isRoot ? false : 'mounting a read-only disk needs root (CI runs as root)' }, (t) => {
  const mnt = tempDir();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'none', mnt], { stdio: 'ignore' });
  } catch {
    t.skip('mount is not allowed here');
    return;
  }
  try {
    const fallback = path.join(tempDir(), 'remote-help');
    const tr = open({ dir: undefined, candidates: [path.join(mnt, 'remote-help'), fallback] });
    assert.match(tr.note ?? '', /read-only/);
    assert.equal(path.dirname(tr.path), fallback);
    const none = openTranscript({ dir: path.join(mnt, 'remote-help'), size: { cols: 80, rows: 24 }, term: 'xterm', title: 't' });
    assert.ok(!('path' in none));
    assert.match(none.error, /No transcript is kept: .* \(the disk is read-only\)/);
  } finally {
    execFileSync('umount', [mnt]);
  }
});

test('a full disk mid-session stops recording quietly, remembers why, and leaves no half line', { skip: isRoot ? false : 'mounting a small disk needs root (CI runs as root)' }, (t) => {
  const mnt = tempDir();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'none', mnt], { stdio: 'ignore' });
  } catch {
    t.skip('mount is not allowed here');
    return;
  }
  try {
    const tr = open({ dir: path.join(mnt, 'remote-help') }); // the mount point itself is world-writable: refused
    const chunk = 'x'.repeat(1000) + '\r\n';
    for (let i = 0; i < 200; i++) tr.output(chunk);
    assert.match(tr.error ?? '', /Recording stopped: the disk is full/);
    tr.helperInput('after');
    tr.close('hotkey');
    for (const e of events(tr.path)) assert.deepEqual([e[1], e[2]], ['o', chunk]);
  } finally {
    execFileSync('umount', [mnt]);
  }
});

test('remote-help transcripts lists them newest first, with the end reason, and a damaged file as one line', () => {
  const dir = tempDir();
  const env = { REMOTE_HELP_STATE_DIR: dir, TZ: 'UTC' };
  const empty = cli(['transcripts'], env);
  assert.equal(empty.status, 0);
  assert.equal(empty.stdout, `No transcripts yet. They are kept in ${dir}.\n`);

  const old = open({ dir, now: () => Date.UTC(2026, 0, 2, 3, 4, 5) });
  old.output('x'.repeat(2000));
  // Killed: never closed.
  const t = open({ dir, title: 'remote-help session with alice@laptop\x1b]0;pwned\x07' });
  t.output('hi');
  t.close('hotkey');
  fs.writeFileSync(path.join(dir, 'session-20260101-000000-1.cast'), '{"version":2,"wid');
  const r = cli(['transcripts'], env);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const blocks = r.stdout.split('\n\n');
  assert.equal(blocks[0], '3 transcripts, newest first:');
  assert.match(blocks[1], new RegExp(`^${t.path}\n  started \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d, lasted \\d+ s, \\d+ bytes\n  remote-help session with alice@laptop\\?\\]0;pwned\\?\n  session ended: hotkey$`));
  assert.match(blocks[2], /started 2026-01-02 03:04:05, lasted 0 s, 2\.2 kB\n {2}remote-help session with alice@laptop\n {2}\(still running or interrupted\)/);
  assert.equal(blocks[3], `${path.join(dir, 'session-20260101-000000-1.cast')}: damaged (it does not start like a transcript)\n`);
});

test('remote-help replay FILE --instant plays the output and says how it ended; --markers and --keys list the notes and what the helper typed', () => {
  const t = open();
  t.marker('helper connected: alice@laptop');
  t.output('hello from the shell\r\n');
  t.helperInput('secret-looking input\r');
  t.close('hotkey');
  const r = cli(['replay', t.path, '--instant'], {});
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /hello from the shell/);
  assert.ok(r.stdout.endsWith('\x1b[0m\x1b[?25h\r\nEnd of transcript: hotkey\n'), JSON.stringify(r.stdout.slice(-80)));
  assert.doesNotMatch(r.stdout, /secret-looking|helper connected/, 'without --markers and --keys, neither is shown');
  const m = cli(['replay', t.path, '--no-wait', '--markers', '--keys'], { LANG: 'C' });
  assert.match(m.stdout, /remote-help noted:\n {2}\d:\d\d {2}helper connected: alice@laptop\n {2}\d:\d\d {2}session ended: hotkey\n/);
  assert.match(m.stdout, /What the helper typed:\n {2}\d:\d\d {2}secret-looking input<Enter>\nEnd of transcript: hotkey\n$/);
});

test('replay paints through a virtual screen: recorded clipboard writes, titles and terminal queries never reach the terminal', () => {
  const t = open();
  t.output('before\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x07\x1bP$qm\x1b\\\x1b[6n after\r\n');
  t.helperInput('\x1b]0;typed title\x07\r');
  t.close('hotkey');
  const r = cli(['replay', t.path, '--instant', '--keys'], {});
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /before after/);
  for (const raw of ['\x1b]52', '\x1b]0;', '\x1bP$q', '\x1b[6n'])
    assert.ok(!r.stdout.includes(raw), `${JSON.stringify(raw)} reached the terminal: ${JSON.stringify(r.stdout)}`);
  assert.match(r.stdout, /⎋\]0;typed title\^G⏎/, 'what the helper typed is shown, escapes spelled out');
});

test('replay keeps the timing, with long pauses cut to --max-idle and --speed applied', () => {
  const t = open({ now: ((ms) => () => (ms += 10_000))(0) }); // 10 s between events
  t.output('a');
  t.output('b');
  t.close('hotkey');
  const started = Date.now();
  const r = cli(['replay', t.path, '--max-idle', '0.4', '--speed', '2'], {});
  const took = Date.now() - started;
  assert.equal(r.status, 0, r.stderr);
  const shown = new VirtualScreen({ cols: 80, rows: 40 }); // taller than what is painted: nothing scrolls away
  shown.write(r.stdout);
  assert.equal(screenText(shown).split('\n')[0], 'ab', 'the screen shows what was recorded');
  shown.dispose();
  assert.ok(took >= 400, `two pauses of 0.4 s at speed 2 take 0.4 s, took ${took} ms`);
  assert.ok(took < 5000, `pauses are capped, took ${took} ms`);
});

test('Ctrl-C stops replay cleanly: colours reset, cursor shown, exit 0', async () => {
  const times = [0, 0, 60_000, 120_000]; // opened, first, a minute later, ended
  const t = open({ now: () => times.shift() ?? 120_000 });
  t.output('\x1b[31mfirst\r\n');
  t.output('never shown');
  t.close('hotkey');
  const child = spawn(NODE, [BIN, 'replay', t.path, '--max-idle', '30'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  await new Promise<void>((resolve) => child.stdout.on('data', (d) => ((out += d), out.includes('first') && resolve())));
  child.kill('SIGINT');
  const status = await new Promise((r) => child.on('exit', (c) => r(c)));
  assert.equal(status, 0, err);
  assert.match(out, /first/);
  assert.ok(out.endsWith('\x1b[0m\x1b[?25h\r\n'), `colours reset and the cursor shown last: ${JSON.stringify(out.slice(-40))}`);
  assert.doesNotMatch(out, /never shown|End of transcript/);
});

test('replay of a missing or non-transcript file exits 2 with a plain message, no stack trace', () => {
  const missing = cli(['replay', path.join(tempDir(), 'nope.cast')], {});
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^remote-help: Cannot replay .*nope\.cast: there is no such file\.\nSee the list with: remote-help transcripts\n$/);
  const notCast = cli(['replay', path.join(ROOT, 'package.json')], {});
  assert.equal(notCast.status, 2);
  assert.match(notCast.stderr, /it is not a transcript \(asciicast v2\)/);
  assert.doesNotMatch(missing.stderr + notCast.stderr, /\n\s+at /);
});
