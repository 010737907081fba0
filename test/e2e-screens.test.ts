// End to end on the full-screen views (blessed), "as a person would": each side sits at a tmux
// pane of its own size and locale and presses only the keys the screens name. Each program runs
// from a shell in the pane, framed by `stty -a` before and after and its exit status. Loopback
// only; a private tmux server per test, killed in all cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sessionProcesses, until } from './harness';
import { reservePort } from './ports';
import { shellQuote, TmuxServer, type Pane } from './tmux';
import { FRIEND, HELPER, launch, listeningPort, noStackTrace, sessionStartedPid, setup, shareShell, terminal } from './e2e';

/** The pane's visible screen only (no history): what the person sees now. */
async function visible(pane: Pane): Promise<string> {
  return pane.server.tmux('capture-pane', '-p', '-t', pane.name);
}

/** Polls the visible screen until pattern appears. Fails with the screen shown. */
async function see(pane: Pane, pattern: RegExp | string, ms = 10_000): Promise<RegExpMatchArray> {
  const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
  const deadline = Date.now() + ms;
  for (;;) {
    const text = await visible(pane);
    const m = text.match(re);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${re} on ${pane.name}'s screen; it shows:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A full screen of the given step and title (the layout upper-cases titles). */
const onStep = (pane: Pane, n: number, title: string, ms = 10_000) =>
  see(pane, new RegExp(`Step ${n} of 7[^\\n]*\\n[^\\n]*\\n[^\\n]*${title.toUpperCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), ms);

/** Steps 1 and 2 with the keys they name: Enter, then 1 (I need help) or 2 (I am helping). */
async function toStep3(pane: Pane, role: '1' | '2') {
  await onStep(pane, 1, 'Welcome to remote-help');
  await pane.key('Enter');
  await onStep(pane, 2, 'Who are you?');
  await pane.type(role);
  if (role === '2') await nameHelper(pane);
  await onStep(pane, 3, role === '1' ? "Your helper's address" : 'What to tell your friend');
}

/** A helper's first time: step 3 asks for the name friends will see. */
async function nameHelper(pane: Pane) {
  await onStep(pane, 3, 'Your name for your friends');
  await pane.type('Alex');
  await pane.key('Enter');
  await see(pane, 'Your friend sees you as: Alex (n: change).');
}

/** The frame's top border at a width: proof the screen was drawn for that size. */
const frameTop = (cols: number, utf8 = false) => (utf8 ? `┌${'─'.repeat(cols - 2)}┐` : `+${'-'.repeat(cols - 2)}+`);

/** Waits until the whole visible screen is one frame of exactly cols x rows, keys in the bottom box. */
async function drawnAt(pane: Pane, cols: number, rows: number, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const lines = (await visible(pane)).replace(/\n$/, '').split('\n');
    const ok = lines.length === rows && lines.every((l) => l.length === cols) &&
      lines[0] === frameTop(cols) && lines[rows - 1] === frameTop(cols) && /^\|  \S.*: /.test(lines[rows - 2]);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for a ${cols}x${rows} frame on ${pane.name}; it shows:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function resize(pane: Pane, cols: number, rows: number) {
  await pane.server.tmux('resize-window', '-t', pane.name, '-x', String(cols), '-y', String(rows));
}

/** Both sides from step 1 of the full screens to step 5, with the keys the screens name. */
async function walkToCode(tmux: TmuxServer, dir: string) {
  const friend = await terminal(tmux, 'friend', FRIEND, dir);
  const helper = await terminal(tmux, 'helper', HELPER, dir);
  const friendEvents = path.join(dir, 'friend-events.jsonl');
  const helperEvents = path.join(dir, 'helper-events.jsonl');

  // The helper: Enter on the welcome, 2 for "I am helping", Enter to start waiting. It waits on a
  // port the system picks (--port 0): step 3 shows the port asked for, step 4 the one it got.
  const h = await launch(helper, dir, `--port 0 --wait 1 --events ${shellQuote(helperEvents)}`);
  await onStep(helper, 1, 'Welcome to remote-help');
  await see(helper, frameTop(HELPER.cols, true));
  await helper.key('Enter');
  await onStep(helper, 2, 'Who are you?');
  await helper.type('2');
  await nameHelper(helper);
  await onStep(helper, 3, 'What to tell your friend');
  await see(helper, 'port 0');
  await helper.key('Enter');
  await onStep(helper, 4, 'Connecting');
  const port = await listeningPort(helperEvents);
  await see(helper, new RegExp(`Waiting for your friend to connect to[\\s\\S]*port[\\s|]+${port}`));

  // The friend: Enter, Down and Up to the first choice and Enter, the address and Enter (the
  // helper's port is the friend's --port, the port for an address typed without one).
  const f = await launch(friend, dir, `--events ${shellQuote(friendEvents)} --port ${port} --wait 1`);
  await onStep(friend, 1, 'Welcome to remote-help');
  await see(friend, frameTop(FRIEND.cols));
  await friend.key('Enter');
  await onStep(friend, 2, 'Who are you?');
  await see(friend, /> 1 {2}I need help/);
  await friend.key('Down');
  await see(friend, /> 2 {2}I am helping someone/);
  await friend.key('Up');
  await see(friend, /> 1 {2}I need help/);
  await friend.key('Enter');
  await onStep(friend, 3, "Your helper's address");
  await friend.type('127.0.0.1');
  await see(friend, 'Address: 127.0.0.1_');
  await friend.key('Enter');

  await onStep(friend, 5, 'Read the code to your helper');
  await see(friend, 'This says it is Alex. You have never been helped by this person before.');
  const code = (await see(friend, /Read this code aloud:\s+([0-9A-Z](?: [0-9A-Z]){4})/))[1];
  await onStep(helper, 5, 'Check the code');
  return { port, friend, helper, f, h, friendEvents, code };
}

/** Both sides from step 1 of the full screens to the shared shell, with the keys the screens name. */
async function walkToSession(tmux: TmuxServer, dir: string) {
  const { port, friend, helper, f, h, friendEvents, code } = await walkToCode(tmux, dir);
  // Step 5: the friend reads the code aloud; the helper types what it hears (lower case, spaces).
  await helper.type(code.toLowerCase());
  await helper.key('Enter');
  await see(helper, 'The code matches. Ask your friend to press y.');
  await friend.type('y');

  // Step 7, then the shell: the friend is told how to end it.
  await friend.waitFor('To end the session at any time: press Ctrl-Alt-C or F12.');
  await helper.waitFor('To leave: press Enter, then type ~.');
  await helper.waitFor(/To leave: press Enter, then type ~\.\n+.*\S/);
  await friend.waitFor(/To end the session at any time: press Ctrl-Alt-C or F12\.\n+.*\S/);
  return { port, friend, helper, f, h, shellPid: sessionStartedPid(friendEvents) };
}

/** The friend's hotkey ends it: both say why, both exit 5, terminals as before, nothing left. */
async function endWithHotkey(s: Awaited<ReturnType<typeof walkToSession>>) {
  await s.friend.bytes('1b', '03'); // Ctrl-Alt-C
  await s.friend.waitFor('You ended the session');
  await s.helper.waitFor('The friend ended the session');
  const fr = await s.f.finished();
  const hr = await s.h.finished();
  assert.equal(fr.exit, 5, "friend's exit status: ended with the hotkey");
  assert.equal(hr.exit, 5, "helper's exit status: the friend ended it");
  assert.equal(fr.after, fr.before, "the friend's terminal settings are as before");
  assert.equal(hr.after, hr.before, "the helper's terminal settings are as before");
  await until(`no process of the shared shell's session ${s.shellPid} to be left`, () => sessionProcesses(s.shellPid).length === 0, 5000);
  noStackTrace(await s.friend.screen(), 'friend');
  noStackTrace(await s.helper.screen(), 'helper');
}

test('screens: both sides walk from step 1 to the shared shell with the keys on the screens; Ctrl-Alt-C ends it', async (t) => {
  const { dir, tmux } = await setup(t);
  const s = await walkToSession(tmux, dir);
  await shareShell(s.friend, s.helper);
  await endWithHotkey(s);
});

test('screens: resizing either terminal during the session resizes the shared shell (smaller of the two per axis)', async (t) => {
  const { dir, tmux } = await setup(t);
  const s = await walkToSession(tmux, dir);
  let n = 0;
  const sttySize = async (rows: number, cols: number) => {
    // Polled: the new size travels from the pane to the program, over SSH, to the pty.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const tag = `SZ${++n}`;
      await s.helper.line(`echo ${tag}=$(stty size)`);
      const m = await s.helper.waitFor(new RegExp(`^${tag}=(\\d+ \\d+)\\s*$`, 'm'));
      if (m[1] === `${rows} ${cols}`) return;
      if (Date.now() > deadline) assert.equal(m[1], `${rows} ${cols}`, 'stty size in the shared shell');
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  // Each side's last row is its status line: the pty has one row less than the smaller pane.
  await sttySize(24, 80); // friend 80x25, helper 100x30
  await resize(s.friend, 120, 40);
  await sttySize(29, 100); // now the helper is the smaller on both axes
  await resize(s.helper, 90, 35);
  await sttySize(34, 90);
  // Back one at a time, each seen in the shared shell before the next, so that both terminals are
  // their first size again before the hotkey (stty -a compares rows and columns too).
  await resize(s.helper, 100, 30);
  await sttySize(29, 100);
  await resize(s.friend, 80, 25);
  await sttySize(24, 80);
  await endWithHotkey(s);
});

test('screens: the helper types a wrong code three times: both are told why and stop, status 4', async (t) => {
  const { dir, tmux } = await setup(t);
  const s = await walkToCode(tmux, dir);
  const wrong = (s.code[0] === '0' ? '1' : '0') + s.code.slice(1); // one symbol misheard
  for (let i = 1; i <= 3; i++) {
    await s.helper.type(wrong.toLowerCase());
    await see(s.helper, `Code: ${wrong.toLowerCase()}_`);
    await s.helper.key('Enter');
    if (i < 3) {
      await see(s.helper, 'That code does NOT match.');
      await see(s.helper, 'Code: _');
    }
  }
  await s.helper.waitFor('The code did not match 3 times, so remote-help stopped.');
  const hr = await s.h.finished();
  const fr = await s.f.finished();
  assert.equal(hr.exit, 4, "the helper's exit status: the code did not match");
  assert.equal(fr.exit, 4, "the friend's exit status: the code was not confirmed");
  assert.equal(hr.after, hr.before, "the helper's terminal settings are as before");
  assert.equal(fr.after, fr.before, "the friend's terminal settings are as before");
  const friendSays = await s.friend.screen();
  assert.match(friendSays, /== Finished ==/, 'the friend is told it is over');
  noStackTrace(friendSays, 'friend');
  noStackTrace(await s.helper.screen(), 'helper');
  const events = fs.readFileSync(s.friendEvents, 'utf8');
  assert.doesNotMatch(events, /session-started/, 'no session was started');
});

test('screens: Tab and a bad address on step 3; Esc walks back from step 4 to 3 to 2 to 1', async (t) => {
  const { dir, tmux } = await setup(t);
  const deadPort = await reservePort(t); // nobody listens: step 4 keeps trying
  const friend = await terminal(tmux, 'friend', FRIEND, dir);
  const f = await launch(friend, dir, `--port ${deadPort} --wait 1`);
  await toStep3(friend, '1');
  // Tab turns the reverse connection on and off again.
  await friend.key('Tab');
  await see(friend, 'Reverse connection: ON');
  await friend.key('Tab');
  await see(friend, 'Reverse connection: off');
  await onStep(friend, 3, "Your helper's address");
  // Not an address: a plain problem on the same screen; Backspace and type it again.
  await friend.type('a b');
  await friend.key('Enter');
  await see(friend, /Problem: "a b" is not an address/);
  await onStep(friend, 3, "Your helper's address");
  await friend.key('BSpace', 'BSpace', 'BSpace');
  await see(friend, /Address: _/);
  await friend.type('127.0.0.1');
  await friend.key('Enter');
  await onStep(friend, 4, 'Connecting');
  await see(friend, /Connecting to your helper at 127\.0\.0\.1|Nothing is waiting at 127\.0\.0\.1/);
  await friend.key('Escape');
  await onStep(friend, 3, "Your helper's address");
  await friend.key('Escape');
  await onStep(friend, 2, 'Who are you?');
  await friend.key('Escape');
  await onStep(friend, 1, 'Welcome to remote-help');
  await friend.type('q');
  await friend.waitFor('You stopped remote-help. Nothing was shared.');
  const r = await f.finished();
  assert.equal(r.exit, 8);
  assert.equal(r.after, r.before, 'terminal settings unchanged');
  noStackTrace(await friend.screen(), 'friend');
});

test('screens: the helper goes back from waiting with Esc, waits again on the same port, and Esc on step 5 stops', async (t) => {
  const { dir, tmux } = await setup(t);
  // A port of its own, not --port 0: the second wait must be on the same port as the first. It is
  // reserved for the test (ports.ts), so nobody else takes it while the helper lets it go.
  const port = await reservePort(t);
  const helper = await terminal(tmux, 'helper', HELPER, dir);
  const friend = await terminal(tmux, 'friend', FRIEND, dir);
  const h = await launch(helper, dir, `--port ${port} --wait 1`);
  await toStep3(helper, '2');
  await helper.key('Enter');
  await onStep(helper, 4, 'Connecting');
  await see(helper, new RegExp(`Waiting for your friend to connect to[\\s\\S]*port[\\s│]+${port}`));
  await helper.key('Escape');
  await onStep(helper, 3, 'What to tell your friend');
  await helper.key('Enter'); // the same port again: the first wait must have let it go
  await onStep(helper, 4, 'Connecting');
  await see(helper, new RegExp(`Waiting for your friend to connect to[\\s\\S]*port[\\s│]+${port}`));
  const f = await launch(friend, dir, `friend 127.0.0.1:${port} --plain --session screen --wait 1`);
  await friend.waitFor('== Step 5 of 7: Read the code to your helper ==');
  await onStep(helper, 5, 'Check the code');
  await helper.key('Escape');
  await helper.waitFor('You stopped remote-help. Nothing was shared.');
  const hr = await h.finished();
  assert.equal(hr.exit, 8, "the helper's exit status: cancelled");
  assert.equal(hr.after, hr.before, "the helper's terminal settings are as before");
  const fr = await f.finished();
  assert.equal(fr.exit, 4, "the friend's exit status when the helper stops at the code");
  noStackTrace(await helper.screen(), 'helper');
  noStackTrace(await friend.screen(), 'friend');
});

test('screens: quitting on each of steps 1 to 5 exits 8 and leaves the terminal as it was', { concurrency: 5 }, async (t) => {
  const { dir, tmux } = await setup(t);
  const deadPort = await reservePort(t); // nobody listens here: step 4 keeps trying

  async function quitAt(stepNo: number, key: 'q' | 'C-c' | 'C-M-c' | 'F12') {
    const name = `quit${stepNo}${{ q: 'q', 'C-c': 'c', 'C-M-c': 'h', F12: 'f' }[key]}`;
    const friend = await terminal(tmux, name, FRIEND, dir);
    let helper: Pane | null = null;
    let h: Awaited<ReturnType<typeof launch>> | null = null;
    let port = deadPort;
    if (stepNo === 5) {
      helper = await terminal(tmux, `${name}-helper`, HELPER, dir);
      const helperEvents = path.join(dir, `${name}-helper-events.jsonl`);
      h = await launch(helper, dir, `helper --port 0 --plain --session screen --wait 1 --events ${shellQuote(helperEvents)}`);
      port = await listeningPort(helperEvents);
      await helper.waitFor(new RegExp(`Waiting for your friend to connect to .* port ${port}\\.`));
    }
    const f = await launch(friend, dir, `--port ${port} --wait 1`);
    await onStep(friend, 1, 'Welcome to remote-help');
    if (stepNo > 1) {
      await friend.key('Enter');
      await onStep(friend, 2, 'Who are you?');
    }
    if (stepNo > 2) {
      await friend.type('1');
      await onStep(friend, 3, "Your helper's address");
    }
    if (stepNo > 3) {
      await friend.type('127.0.0.1');
      await friend.key('Enter');
    }
    if (stepNo === 4) {
      await onStep(friend, 4, 'Connecting');
      await see(friend, /Connecting to your helper at 127\.0\.0\.1|Nothing is waiting at 127\.0\.0\.1/);
    }
    if (stepNo === 5) {
      await onStep(friend, 5, 'Read the code to your helper');
      await see(friend, /Read this code aloud:\s+[0-9A-Z](?: [0-9A-Z]){4}/);
    }
    if (key === 'q') await friend.type('q');
    else if (key === 'C-M-c') await friend.bytes('1b', '03'); // Ctrl-Alt-C, the friend's hotkey
    else await friend.key(key);
    await friend.waitFor('You stopped remote-help. Nothing was shared.');
    const r = await f.finished();
    assert.equal(r.exit, 8, `${key} on step ${stepNo}: exit status 8 (cancelled)`);
    assert.equal(r.after, r.before, `${key} on step ${stepNo}: terminal settings unchanged`);
    noStackTrace(await friend.screen(), `friend, ${key} on step ${stepNo}`);
    if (helper && h) {
      const hr = await h.finished();
      assert.equal(hr.exit, 4, "helper's exit status when the friend stops at the code");
      assert.equal(hr.after, hr.before, "the helper's terminal settings are as before");
      noStackTrace(await helper.screen(), 'helper');
    }
  }

  /** The helper's step 5 has a text field: Ctrl-C quits it (a plain friend dials in). */
  async function helperQuitsAtCode() {
    const helper = await terminal(tmux, 'hquit5', HELPER, dir);
    const friend = await terminal(tmux, 'hquit5-friend', FRIEND, dir);
    const helperEvents = path.join(dir, 'hquit5-events.jsonl');
    const h = await launch(helper, dir, `--port 0 --wait 1 --events ${shellQuote(helperEvents)}`);
    await onStep(helper, 1, 'Welcome to remote-help');
    await helper.key('Enter');
    await onStep(helper, 2, 'Who are you?');
    await helper.key('Down');
    await see(helper, /> 2 {2}I am helping someone/);
    await helper.key('Enter');
    await nameHelper(helper);
    await onStep(helper, 3, 'What to tell your friend');
    await helper.key('Enter');
    await onStep(helper, 4, 'Connecting');
    const port = await listeningPort(helperEvents);
    const f = await launch(friend, dir, `friend 127.0.0.1:${port} --plain --session screen --wait 1`);
    await onStep(helper, 5, 'Check the code');
    await helper.type('q'); // a letter of the code, not quit
    await see(helper, 'Code: q_');
    await helper.key('C-c');
    await helper.waitFor('You stopped remote-help. Nothing was shared.');
    const hr = await h.finished();
    assert.equal(hr.exit, 8, "the helper's exit status: cancelled");
    assert.equal(hr.after, hr.before, "the helper's terminal settings are as before");
    const fr = await f.finished();
    assert.equal(fr.exit, 4, "the friend's exit status when the helper stops at the code");
    noStackTrace(await helper.screen(), 'helper');
    noStackTrace(await friend.screen(), 'friend');
  }

  const cases: [number, 'q' | 'C-c' | 'C-M-c' | 'F12'][] = [
    [1, 'q'], [2, 'q'], [3, 'C-c'], [4, 'q'], [5, 'q'], [1, 'C-c'], [2, 'C-c'], [4, 'C-c'],
    [1, 'C-M-c'], [3, 'C-M-c'], [5, 'C-M-c'], [3, 'F12'],
  ];
  await Promise.all([
    ...cases.map(([n, key]) => t.test(`${key} on step ${n}`, () => quitAt(n, key))),
    t.test('the helper: Ctrl-C on step 5', helperQuitsAtCode),
  ]);
});

test('screens: resizing the terminal on a screen redraws it at the new size; below 60x20 it says it is too small', async (t) => {
  const { dir, tmux } = await setup(t);
  const friend = await terminal(tmux, 'friend', FRIEND, dir);
  const f = await launch(friend, dir, '--wait 1');
  await onStep(friend, 1, 'Welcome to remote-help');
  await see(friend, frameTop(80));
  await resize(friend, 100, 30);
  await see(friend, frameTop(100));
  await drawnAt(friend, 100, 30);
  await resize(friend, 50, 15);
  await see(friend, 'This window is too small (50x15).');
  await see(friend, 'Make it at least 60x20.');
  await resize(friend, 60, 20); // the smallest usable size draws the screen again
  await onStep(friend, 1, 'Welcome to remote-help');
  await drawnAt(friend, 60, 20);
  await friend.key('Enter'); // keys still work after the resizes
  await onStep(friend, 2, 'Who are you?');
  await resize(friend, 59, 25);
  await see(friend, 'This window is too small (59x25).');
  await resize(friend, 80, 25);
  await onStep(friend, 2, 'Who are you?');
  await drawnAt(friend, 80, 25);
  await friend.type('q');
  await friend.waitFor('You stopped remote-help. Nothing was shared.');
  const r = await f.finished();
  assert.equal(r.exit, 8);
  assert.equal(r.after, r.before, 'terminal settings unchanged (same size again)');
});
