// End to end "as a person would": the friend and the helper each sit at a terminal (a tmux pane
// of their own size and locale), type only what the screens ask for, and read the screens. Each
// program runs from a shell in the pane, so the shell prints its exit status and `stty -a` after
// it, to check the terminal is given back as it was. Loopback only; a private tmux server per test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, until } from './harness';
import { reservePort } from './ports';
import { shellQuote, type Pane } from './tmux';
import { FRIEND, HELPER, launch, listeningPort, noStackTrace, sessionStartedPid, setup, shareShell, terminal, noneLeft } from './e2e';

/** The five symbols as the friend's screen shows them, e.g. "Q 7 C E D". */
async function readCode(friend: Pane): Promise<string> {
  const m = await friend.waitFor(/^Read this code aloud:\s+([0-9A-Z](?: [0-9A-Z]){4})\s*$/m);
  return m[1];
}

/** Both sides check the code: the helper types what it hears, lower case with spaces; the friend presses y. */
async function verifyAndStart(friend: Pane, helper: Pane) {
  await friend.waitFor('== Step 5 of 7: Read the code to your helper ==');
  const spoken = await readCode(friend);
  await helper.waitFor('== Step 5 of 7: Check the code ==');
  await helper.waitFor('Type the five symbols you hear, then press Enter.');
  await helper.line(spoken.toLowerCase());
  await helper.waitFor('The code matches. Ask your friend to press y.');
  await friend.line('y');
  await friend.waitFor('== Step 7 of 7: Connected ==');
  await helper.waitFor('== Step 7 of 7: Connected ==');
  // The helper's keys count from the shell's first output on: wait for its prompt under the banner.
  await helper.waitFor(/To leave: press Enter, then type ~\.\n+.*\S/);
  await friend.waitFor(/To end the session at any time: press Ctrl-Alt-C or F12\.\n+.*\S/);
  return spoken;
}

test('tmux: the friend goes through the wizard from step 1, both share the shell, Ctrl-Alt-C ends it', async (t) => {
  const { dir, tmux } = await setup(t);
  const friend = await terminal(tmux, 'friend', FRIEND, dir);
  const helper = await terminal(tmux, 'helper', HELPER, dir);
  const friendEvents = path.join(dir, 'friend-events.jsonl');
  const helperEvents = path.join(dir, 'helper-events.jsonl');

  // The helper waits on a port the system picks (the wizard itself always offers port 2222).
  const h = await launch(helper, dir, `helper --port 0 --plain --session screen --events ${shellQuote(helperEvents)}`);
  await helper.waitFor('== Step 4 of 7: Connecting ==');
  const port = await listeningPort(helperEvents);
  await helper.waitFor(new RegExp(`Waiting for your friend to connect to .* port ${port}\\.`));

  const f = await launch(friend, dir, `--events ${shellQuote(friendEvents)} --plain --session screen`);
  await friend.waitFor('== Step 1 of 7: Welcome to remote-help ==');
  await friend.waitFor('[Enter: continue   q: quit]');
  await friend.line('');
  await friend.waitFor('== Step 2 of 7: Who are you? ==');
  await friend.line('1');
  await friend.waitFor("== Step 3 of 7: Your helper's address ==");
  await friend.line(`127.0.0.1:${port}`);
  await friend.waitFor('== Step 4 of 7: Connecting ==');

  await verifyAndStart(friend, helper);
  const shellPid = sessionStartedPid(friendEvents);
  await shareShell(friend, helper);

  await friend.bytes('1b', '03'); // Ctrl-Alt-C
  await friend.waitFor('You ended the session');
  await helper.waitFor('The friend ended the session');
  const fr = await f.finished();
  const hr = await h.finished();
  assert.equal(fr.exit, 5, "friend's exit status: ended with the hotkey");
  assert.equal(hr.exit, 5, "helper's exit status: the friend ended it");
  assert.equal(fr.after, fr.before, "the friend's terminal settings are as before");
  assert.equal(hr.after, hr.before, "the helper's terminal settings are as before");
  await noneLeft(shellPid);
  noStackTrace(await friend.screen(), 'friend');
  noStackTrace(await helper.screen(), 'helper');
});

test('tmux: reverse, the friend waits and the helper connects; F12 ends it', async (t) => {
  // The wizard's reverse (step 3, `r`) always waits on port 2222: it has no way to choose the
  // port, so the waiting friend is started with `friend --reverse --port 0` (at step 4).
  const { dir, tmux } = await setup(t);
  const friend = await terminal(tmux, 'friend', FRIEND, dir);
  const helper = await terminal(tmux, 'helper', HELPER, dir);
  const friendEvents = path.join(dir, 'friend-events.jsonl');

  const f = await launch(friend, dir, `friend --reverse --port 0 --plain --session screen --events ${shellQuote(friendEvents)}`);
  await friend.waitFor('== Step 4 of 7: Connecting ==');
  const port = await listeningPort(friendEvents);
  await friend.waitFor(new RegExp(`Waiting for your helper to connect to .* port ${port}\\.`));

  const h = await launch(helper, dir, `helper --reverse 127.0.0.1:${port} --plain --session screen`);
  await helper.waitFor('== Step 4 of 7: Connecting ==');

  await verifyAndStart(friend, helper);
  const shellPid = sessionStartedPid(friendEvents);
  await shareShell(friend, helper);

  await friend.key('F12');
  await friend.waitFor('You ended the session');
  await helper.waitFor('The friend ended the session');
  const fr = await f.finished();
  const hr = await h.finished();
  assert.equal(fr.exit, 5);
  assert.equal(hr.exit, 5);
  assert.equal(fr.after, fr.before, "the friend's terminal settings are as before");
  assert.equal(hr.after, hr.before, "the helper's terminal settings are as before");
  await noneLeft(shellPid);
  noStackTrace(await friend.screen(), 'friend');
  noStackTrace(await helper.screen(), 'helper');
});

test('tmux: the friend quits with q on each of steps 1 to 5: status 8, terminal unchanged, no stack trace', { concurrency: 5 }, async (t) => {
  const { dir, tmux } = await setup(t);
  const deadPort = await reservePort(t); // nobody listens here: step 4 keeps trying

  async function quitAt(stepNo: number) {
    const friend = await terminal(tmux, `quit${stepNo}`, FRIEND, dir);
    let helper: Pane | null = null;
    let h: Awaited<ReturnType<typeof launch>> | null = null;
    let livePort = 0; // where a helper waits for step 5
    if (stepNo === 5) {
      helper = await terminal(tmux, 'helper5', HELPER, dir);
      const helperEvents = path.join(dir, 'helper5-events.jsonl');
      h = await launch(helper, dir, `helper --port 0 --plain --session screen --events ${shellQuote(helperEvents)}`);
      livePort = await listeningPort(helperEvents);
      await helper.waitFor(new RegExp(`Waiting for your friend to connect to .* port ${livePort}\\.`));
    }
    const f = await launch(friend, dir, '--plain --session screen');
    await friend.waitFor('== Step 1 of 7: Welcome to remote-help ==');
    if (stepNo > 1) {
      await friend.line('');
      await friend.waitFor('== Step 2 of 7: Who are you? ==');
    }
    if (stepNo > 2) {
      await friend.line('1');
      await friend.waitFor("== Step 3 of 7: Your helper's address ==");
    }
    if (stepNo === 4) {
      await friend.line(`127.0.0.1:${deadPort}`);
      await friend.waitFor('== Step 4 of 7: Connecting ==');
      await friend.waitFor(`Connecting to your helper at 127.0.0.1:${deadPort}`);
    }
    if (stepNo === 5) {
      await friend.line(`127.0.0.1:${livePort}`);
      await friend.waitFor('== Step 5 of 7: Read the code to your helper ==');
      await readCode(friend);
    }
    await friend.line('q');
    await friend.waitFor('You stopped remote-help. Nothing was shared.');
    const r = await f.finished();
    assert.equal(r.exit, 8, `quit on step ${stepNo}: exit status 8 (cancelled)`);
    assert.equal(r.after, r.before, `quit on step ${stepNo}: terminal settings unchanged`);
    noStackTrace(await friend.screen(), `friend, quit on step ${stepNo}`);
    if (helper && h) {
      // The helper is told the friend stopped, and stops too ("not confirmed").
      const hr = await h.finished();
      assert.equal(hr.exit, 4, "helper's exit status when the friend stops at the code");
      assert.equal(hr.after, hr.before, "the helper's terminal settings are as before");
      noStackTrace(await helper.screen(), 'helper');
    }
  }

  await Promise.all([1, 2, 3, 4, 5].map((n) => t.test(`quit on step ${n}`, () => quitAt(n))));
});

/** The pid of the remote-help process whose command line names this events file. */
function pidWithEvents(eventsFile: string): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes(eventsFile) && argv.includes(BIN)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

// Every way the friend's program can end mid-session gives the terminal back as it was.
for (const how of ['SIGTERM', 'SIGINT', 'fault'] as const) {
  test(`tmux: ${how === 'fault' ? 'an unexpected error' : how} mid-session leaves the friend's terminal as it was`, async (t) => {
    const { dir, tmux } = await setup(t);
    const friend = await terminal(tmux, 'friend', FRIEND, dir);
    const helper = await terminal(tmux, 'helper', HELPER, dir);
    const friendEvents = path.join(dir, 'friend-events.jsonl');
    const helperEvents = path.join(dir, 'helper-events.jsonl');
    const fault = how === 'fault' ? `NODE_OPTIONS=--require=${shellQuote(path.join(__dirname, 'fixtures', 'fault.cjs'))} ` : '';
    const h = await launch(helper, dir, `helper --port 0 --plain --session screen --events ${shellQuote(helperEvents)}`);
    const port = await listeningPort(helperEvents);
    await helper.waitFor(`port ${port}.`);
    await friend.line(`export ${fault || 'X=1'}`);
    const f = await launch(friend, dir, `friend 127.0.0.1:${port} --plain --session screen --events ${shellQuote(friendEvents)}`);
    await verifyAndStart(friend, helper);
    const shellPid = sessionStartedPid(friendEvents);
    if (how !== 'fault') {
      const pid = await until('the friend\'s process', () => pidWithEvents(friendEvents));
      process.kill(pid, how);
    }
    const r = await f.finished();
    assert.equal(r.exit, how === 'fault' ? 1 : 9);
    assert.equal(r.after, r.before, 'the friend\'s terminal settings are as before');
    await noneLeft(shellPid);
    noStackTrace(await friend.screen(), 'friend');
    const hr = await h.finished();
    assert.notEqual(hr.exit, 0);
    assert.equal(hr.after, hr.before, 'the helper\'s terminal settings are as before');
  });
}
