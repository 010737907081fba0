// The session engine with real processes: the friend's status line holds against full-screen
// programs in a real terminal (tmux), a stalled helper costs the friend neither responsiveness nor
// unbounded memory and gets a fresh screen when it comes back, the friend's keyboard consent
// (--view-only, Ctrl-Alt-K) and the helper's ~m message. Loopback only; every wait is bounded.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, NODE, connectedPairWith, listeningPort, sessionProcesses, sideFor, tempDir, until, type Side } from './harness';
import { shellQuote, type Pane } from './tmux';
import { FRIEND, launch, noneLeft, noStackTrace, setup, terminal } from './e2e';
import { killSession } from '../src/session/processes';

const HOTKEY = '\x1b\x03'; // Ctrl-Alt-C
const CTRL_ALT_K = '\x1b\x0b';
const SCRIBBLE = path.join(__dirname, 'fixtures', 'scribble.sh');
const STATUS = /remote-help|End: C/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The shared shell is the user's login shell; its rc files are the machine's, not ours (here
 * root's ~/.bashrc runs `pyenv rehash`, which waits up to 60 s on a lock while other login shells
 * start). The friend gets an empty home of its own, so the shell starts at once and the
 * transcripts stay in the test's folder. */
function emptyHome(t: TestContext): string {
  const home = tempDir('remote-help-home-');
  t.after(() => fs.rmSync(home, { recursive: true, force: true }));
  return home;
}

function note(t: TestContext, text: string) {
  t.diagnostic(text);
  console.log(`# ${text}`);
}

function readEvents(file: string): { event: string; [k: string]: unknown }[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

/** A friend and a helper in a shared shell, as a person would start typing: not within the first
 * moments (the helper's side drops keys that arrive in its first 150 ms, see helper-session.ts). */
async function pair(t: TestContext, friendArgs: string[] = []) {
  const p = await connectedPairWith({ t, friendArgs, friendEnv: { HOME: emptyHome(t) } });
  await sleep(300);
  return p;
}

// ---- 1. the status line in a real terminal --------------------------------------------------

/** The pane's visible rows (no history), exactly as many as the pane is high. */
async function visibleRows(pane: Pane): Promise<string[]> {
  const text = await pane.server.tmux('capture-pane', '-p', '-t', pane.name);
  return text.replace(/\n$/, '').split('\n');
}

/** Polls the visible rows until `want` holds; on every capture the last row must not be forged
 * (a repaint may catch it blank for a moment, never showing the program's text). */
async function waitRows(pane: Pane, what: string, want: (rows: string[]) => boolean, ms = 10_000): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const rows = await visibleRows(pane);
    assert.equal(rows.length, FRIEND.rows, 'capture-pane gives the whole pane');
    const last = rows[rows.length - 1];
    assert.doesNotMatch(last, /FORGED|scroll-line|region-line/, `while waiting for ${what}, the last row shows the program's text:\n${rows.join('\n')}`);
    if (want(rows)) return rows;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; the pane shows:\n${rows.join('\n')}`);
    await sleep(50);
  }
}

/** Once the screen settles on `what`, the last row is the status line. */
async function statusHolds(pane: Pane, what: string, want: (rows: string[]) => boolean): Promise<string[]> {
  await waitRows(pane, what, want);
  // The frame with `what` may be painted before the status row of the same frame: wait for it.
  const rows = await waitRows(pane, `${what}, with the status line`, (r) => want(r) && STATUS.test(r[r.length - 1]), 3000);
  const last = rows[rows.length - 1];
  assert.match(last, STATUS, `${what}: the last row is the status line`);
  assert.doesNotMatch(last, /FORGED/, `${what}: the last row is not forged`);
  return rows;
}

const hasRow = (re: RegExp) => (rows: string[]) => rows.some((r) => re.test(r));


/** The friend's Ctrl-Alt-C ends both sides (status 5) and leaves no process of the session. */
async function endWithHotkey(friend: Side, helper: Side, shellPid: number) {
  friend.write(HOTKEY);
  const [f, h] = await Promise.all([friend.exited, helper.exited]);
  assert.equal(f.code, 5);
  assert.equal(h.code, 5);
  await noneLeft(shellPid);
}

test('tmux: a full-screen program cannot overwrite or scroll away the status line', { timeout: 45_000 }, async (t) => {
  const { dir, tmux } = await setup(t, 'remote-help-engine-');
  const friendEvents = path.join(dir, 'friend-events.jsonl');
  t.after(() => {
    const started = readEvents(friendEvents).find((e) => e.event === 'session-started');
    if (started) killSession(Number(started.pid));
  });
  const helper = sideFor(t, 'helper', ['helper', '--port', '0']);
  const port = await listeningPort(helper);

  // terminal() checks TERM, LANG and LC_ALL in the pane; HOME rides along in the pane's environment.
  const friendSpec = { ...FRIEND, env: { ...FRIEND.env, HOME: emptyHome(t) } as typeof FRIEND.env };
  const friend = await terminal(tmux, 'friend', friendSpec, dir);
  const f = await launch(friend, dir, `friend 127.0.0.1:${port} --plain --session screen --events ${shellQuote(friendEvents)}`);
  const shown = await until('the friend\'s code', () => readEvents(friendEvents).find((e) => e.event === 'code-shown'));
  await helper.waitFor('Type the five symbols');
  helper.write(`${String(shown.code).toLowerCase()}\r`);
  await helper.waitFor('Ask your friend to press y');
  await friend.line('y');
  const started = await until('session-started', () => readEvents(friendEvents).find((e) => e.event === 'session-started'));
  const shellPid = Number(started.pid);
  await statusHolds(friend, 'the shared shell', () => true);

  await friend.line(`bash ${shellQuote(SCRIBBLE)}`);
  // Phase 1: FORGED STATUS at row 25 and row 999 lands on the shell's own last row (24), above
  // the status line.
  let rows = await statusHolds(friend, 'phase-1', hasRow(/phase-1/));
  assert.match(rows[FRIEND.rows - 2], /FORGED STATUS row-999/, `phase 1: the forgery is drawn on the row above the status line:\n${rows.join('\n')}`);
  await friend.key('Enter');
  rows = await statusHolds(friend, 'phase-2', hasRow(/phase-2/));
  assert.ok(rows.some((r) => /scroll-line 60 FORGED STATUS/.test(r)), `phase 2: the last scrolled line is on screen:\n${rows.join('\n')}`);
  await friend.key('Enter');
  rows = await statusHolds(friend, 'phase-3', hasRow(/phase-3/));
  assert.ok(rows.slice(0, -1).some((r) => /FORGED STATUS/.test(r)), `phase 3: the scroll region's text is on screen:\n${rows.join('\n')}`);
  await friend.key('Enter');
  rows = await statusHolds(friend, 'phase-4 (alternate screen)', hasRow(/phase-4/));
  assert.match(rows[FRIEND.rows - 2], /FORGED STATUS alt-999/, `phase 4: the alternate screen's bottom row is above the status line:\n${rows.join('\n')}`);
  await friend.key('Enter');
  await statusHolds(friend, 'scribble-done', hasRow(/^scribble-done\s*$/));

  // A real pager: to the end and out.
  await friend.line('seq 1 500 | less');
  await statusHolds(friend, 'less showing the first page', (r) => r.some((x) => x.trim() === '1') && r.some((x) => x.trim() === '10'));
  await friend.type('G');
  await statusHolds(friend, 'less at the end', hasRow(/^500\s*$/));
  await friend.type('q');
  await friend.line('echo less-$((2+3))-quit');
  await statusHolds(friend, 'the shell after less', hasRow(/^less-5-quit\s*$/));

  await friend.bytes('1b', '03'); // Ctrl-Alt-C
  const fr = await f.finished();
  assert.equal(fr.exit, 5, "friend's exit status: ended with the hotkey");
  assert.equal(fr.after, fr.before, "the friend's terminal settings are as before");
  const h = await helper.exited;
  assert.equal(h.code, 5, "helper's exit status: the friend ended it");
  await noneLeft(shellPid);
  noStackTrace(await friend.screen(), 'friend');
});

// ---- 2, 3. a flood, a stalled helper, Ctrl-C -------------------------------------------------

function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `VmRSS of ${pid}`);
  return Number(m[1]);
}

/** startSide runs node directly in the pty (no shell, no wrapper): the pty's pid is remote-help. */
function assertIsRemoteHelp(pid: number) {
  const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  assert.equal(fs.realpathSync(argv[0]), fs.realpathSync(NODE), `pid ${pid} is node: ${argv.join(' ')}`);
  assert.equal(argv[1], BIN, `pid ${pid} runs remote-help: ${argv.join(' ')}`);
}

const FLOOD = /(flood-flood-flood\s*\n){10}/;

function yesRunning(shellPid: number): boolean {
  return sessionProcesses(shellPid).some((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'yes';
    } catch {
      return false;
    }
  });
}

/** The friend presses Ctrl-C during the flood, then types a command: the times from the Ctrl-C
 * to the shell's ^C on the friend's screen and to the command's output there. */
async function interruptFlood(friend: Side, shellPid: number): Promise<{ caretMs: number; answerMs: number }> {
  const t0 = performance.now();
  friend.write('\x03');
  // Input typed before the tty handles the ^C would be flushed with it: wait for its echo (and
  // for `yes` to be gone), then type.
  await until('^C on the friend\'s screen and yes gone', () => friend.screen().includes('^C') && !yesRunning(shellPid), 20_000);
  const caretMs = performance.now() - t0;
  friend.write('echo after-$((3*4))\r');
  await until('after-12 on the friend\'s screen', () => /^after-12\s*$/m.test(friend.screen()), 20_000);
  return { caretMs, answerMs: performance.now() - t0 };
}

let stalledAnswerMs: number | null = null;

test('the helper stopped with SIGSTOP while the shell floods: the friend\'s shell still answers, Ctrl-C interrupts the flood, and the friend\'s memory stays bounded', { timeout: 45_000 }, async (t) => {
  const { friend, helper, shellPid } = await pair(t);
  assertIsRemoteHelp(friend.pid);
  helper.write('echo ready-$((2+2))\r');
  await until('ready-4 on the friend\'s screen', () => friend.screen().includes('ready-4'));
  await sleep(300);
  const baseline = rssKb(friend.pid);

  helper.kill('SIGSTOP');
  friend.write('yes flood-flood-flood\r');
  await until('the flood on the friend\'s screen', () => FLOOD.test(friend.screen()));
  const samples: number[] = [];
  const floodStart = Date.now();
  while (Date.now() - floodStart < 8000) {
    samples.push(rssKb(friend.pid));
    await sleep(500);
  }
  assert.ok(yesRunning(shellPid), 'yes is still flooding after 8 s');
  const peak = Math.max(...samples);

  const { caretMs, answerMs } = await interruptFlood(friend, shellPid);
  stalledAnswerMs = answerMs;
  note(t, `friend RSS: baseline ${(baseline / 1024).toFixed(1)} MB, peak ${(peak / 1024).toFixed(1)} MB over ${samples.length} samples in 8 s of flood (growth ${((peak - baseline) / 1024).toFixed(1)} MB); samples MB: ${samples.map((s) => (s / 1024).toFixed(0)).join(' ')}`);
  note(t, `Ctrl-C response with the helper stopped: ^C and yes gone after ${caretMs.toFixed(0)} ms, after-12 shown after ${answerMs.toFixed(0)} ms`);
  assert.ok(peak - baseline < 80 * 1024, `the friend's memory grew by ${((peak - baseline) / 1024).toFixed(1)} MB (baseline ${baseline} kB, peak ${peak} kB)`);
  assert.ok(answerMs < 5000, `the shell answered ${answerMs.toFixed(0)} ms after Ctrl-C`);

  // The helper comes back: it catches up with a fresh screen that shows the shell's answer.
  const resumed = performance.now();
  helper.kill('SIGCONT');
  await until('after-12 on the helper\'s screen', () => /^after-12\s*$/m.test(helper.screen()), 20_000);
  note(t, `the helper showed after-12 ${(performance.now() - resumed).toFixed(0)} ms after SIGCONT`);
  const resync = friend.events().find((e) => e.event === 'helper-resync');
  assert.ok(resync && Number(resync.skipped) > 0, `the friend's side skipped output for the helper and sent a fresh screen: ${JSON.stringify(resync)}`);
  await helper.waitFor(/Too slow a link: \d+ bytes skipped, screen sent fresh\./);

  await endWithHotkey(friend, helper, shellPid);
});

test('Ctrl-C during a flood with the helper reading normally, for comparison', { timeout: 45_000 }, async (t) => {
  const { friend, helper, shellPid } = await pair(t);
  helper.write('echo ready-$((2+2))\r');
  await until('ready-4 on the friend\'s screen', () => friend.screen().includes('ready-4'));
  friend.write('yes flood-flood-flood\r');
  await until('the flood on the friend\'s screen', () => FLOOD.test(friend.screen()));
  await until('the flood on the helper\'s screen', () => FLOOD.test(helper.screen()));
  await sleep(3000);
  assert.ok(yesRunning(shellPid), 'yes is still flooding after 3 s');
  const { caretMs, answerMs } = await interruptFlood(friend, shellPid);
  note(t, `Ctrl-C response with the helper reading: ^C and yes gone after ${caretMs.toFixed(0)} ms, after-12 shown after ${answerMs.toFixed(0)} ms (with the helper stopped: ${stalledAnswerMs === null ? 'not measured' : `${stalledAnswerMs.toFixed(0)} ms`})`);
  assert.ok(answerMs < 5000, `the shell answered ${answerMs.toFixed(0)} ms after Ctrl-C`);
  await until('after-12 on the helper\'s screen', () => /^after-12\s*$/m.test(helper.screen()), 20_000);

  await endWithHotkey(friend, helper, shellPid);
});

// ---- 4, 5. consent and messages ---------------------------------------------------------------

function statusRow(side: Side): string {
  const rows = side.screen().split('\n');
  return rows[rows.length - 1];
}

async function statusShows(side: Side, re: RegExp, what: string) {
  await until(`${side.name}'s status line to say ${what} (${re})`, () => re.test(statusRow(side)), 5000)
    .catch((e: Error) => {
      throw new Error(`${e.message}; the status line is: ${JSON.stringify(statusRow(side))}`);
    });
}


test('view only: the helper\'s keys are dropped until the friend presses Ctrl-Alt-K, and again after the second press', { timeout: 45_000 }, async (t) => {
  const dir = tempDir('remote-help-consent-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { friend, helper, shellPid } = await pair(t, ['--view-only']);
  const keyboardEvents = () => friend.events().filter((e) => e.event === 'keyboard');
  const first = path.join(dir, 'first');
  const second = path.join(dir, 'second');
  const third = path.join(dir, 'third');

  await statusShows(friend, /is watching|helper watching/, 'the helper is watching');
  assert.doesNotMatch(statusRow(friend), /may type/);
  // The helper's side learns on the control channel that it is watching.
  await helper.waitFor('Your friend took the keyboard: you can watch');
  helper.write(`echo helper-typed > ${first}\r`);
  await helper.waitFor('Not sent: your friend has the keyboard');
  await sleep(1000);
  assert.equal(fs.existsSync(first), false, 'a view-only helper\'s command did not run');

  friend.write(CTRL_ALT_K);
  await until('a keyboard event', () => keyboardEvents().length === 1);
  assert.deepEqual(keyboardEvents()[0], { ...keyboardEvents()[0], event: 'keyboard', helperMayType: true });
  await helper.waitFor('Your friend gave you the keyboard');
  await statusShows(friend, /may type/, 'the helper may type');
  helper.write(`echo helper-typed > ${second}\r`);
  await until(`${second} written by the helper's command`, () => fs.existsSync(second), 5000);
  assert.equal(fs.readFileSync(second, 'utf8'), 'helper-typed\n');

  friend.write(CTRL_ALT_K);
  await until('a second keyboard event', () => keyboardEvents().length === 2);
  assert.equal(keyboardEvents()[1].helperMayType, false);
  await statusShows(helper, /Your friend took the keyboard/, 'the keyboard was taken again');
  await statusShows(friend, /is watching|helper watching/, 'the helper is watching again');
  helper.write(`echo helper-typed > ${third}\r`);
  await sleep(1000);
  assert.equal(fs.existsSync(third), false, 'the helper\'s command after the keyboard was taken back did not run');
  assert.equal(keyboardEvents().length, 2, 'no other keyboard change');

  await endWithHotkey(friend, helper, shellPid);
});

test('the helper\'s ~m message shows on the friend\'s status line and in the events log', { timeout: 45_000 }, async (t) => {
  const { friend, helper, shellPid } = await pair(t);
  await statusShows(friend, /may type/, 'the helper may type');
  helper.write('\r');
  await sleep(200);
  helper.write('~m');
  await helper.waitFor('Message to your friend (Enter sends, Esc cancels)');
  helper.write('call me back\r');
  await helper.waitFor("Sent. It is on your friend's status line.");
  await statusShows(friend, /says: call me back/, 'the message');
  const msg = await friend.waitEvent('helper-message');
  assert.equal(msg.text, 'call me back');
  // The message went to the friend, not to the shell.
  await sleep(300);
  assert.doesNotMatch(friend.screen().split('\n').slice(0, -1).join('\n'), /call me back/, 'the message is not typed into the shell');

  await endWithHotkey(friend, helper, shellPid);
});
