// Every deliberate ending reaches the other side as what it was, also while the shell floods
// output and the other side is busy reading it: the friend's Ctrl-Alt-C, the helper's ~., the
// shell's exit. Each is run RUNS times, a few sessions at a time (a busy machine made the
// goodbye go missing before: the closing side reset the connection with the other's data unread).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EXIT } from '../src/errors';
import { connectedPairWith, sessionProcesses, until, type Side } from './harness';

const RUNS = 30;
const AT_ONCE = 3;
const HOTKEY = '\x1b\x03';

interface Expected {
  friendExit: number;
  friendReason: string;
  friendSays: string;
  helperExit: number;
  helperReason: string;
  helperSays: string;
}

const lastEnded = (s: Side) => s.events().filter((e) => e.event === 'session-ended').at(-1)?.reason;

/** One session: flood, end it `how`, and check both sides say what happened. */
async function once(t: TestContext, how: (friend: Side, helper: Side) => Promise<void>, want: Expected) {
  const { friend, helper, shellPid } = await connectedPairWith({ t });
  await how(friend, helper);
  const [f, h] = await Promise.all([friend.exited, helper.exited]);
  const seen = {
    friendExit: f.code,
    friendReason: lastEnded(friend),
    helperExit: h.code,
    helperReason: lastEnded(helper),
  };
  assert.deepEqual(seen, { friendExit: want.friendExit, friendReason: want.friendReason, helperExit: want.helperExit, helperReason: want.helperReason },
    `helper's last lines: ${JSON.stringify(helper.output().slice(-300))}`);
  await helper.waitFor(want.helperSays, 2000);
  await friend.waitFor(want.friendSays, 2000);
  await until('no process of the shared shell left', () => sessionProcesses(shellPid).length === 0, 5000);
}

/** The friend starts `yes` and the helper sees it stream in. */
async function flood(friend: Side, helper: Side) {
  friend.write('yes\r');
  await helper.waitFor(/(y\r*\n){200}/, 10_000);
}

async function runs(t: TestContext, how: (friend: Side, helper: Side) => Promise<void>, want: Expected) {
  for (let i = 0; i < RUNS; i += AT_ONCE) {
    const batch = Array.from({ length: Math.min(AT_ONCE, RUNS - i) }, (_, j) =>
      t.test(`run ${i + j + 1}`, (st) => once(st, how, want)));
    await Promise.all(batch);
  }
}

test(`the friend's Ctrl-Alt-C under a flood reaches the helper as the friend's ending, ${RUNS} runs`, { timeout: 300_000 }, (t) =>
  runs(t, async (friend, helper) => {
    await flood(friend, helper);
    friend.write(HOTKEY);
  }, {
    friendExit: EXIT.hotkey, friendReason: 'hotkey', friendSays: 'You ended the session',
    helperExit: EXIT.hotkey, helperReason: 'hotkey', helperSays: 'The friend ended the session',
  }));

test(`the helper's ~. under a flood reaches the friend as the helper leaving, ${RUNS} runs`, { timeout: 300_000 }, (t) =>
  runs(t, async (friend, helper) => {
    await flood(friend, helper);
    helper.write('\r~.');
  }, {
    friendExit: EXIT.ok, friendReason: 'helper-left', friendSays: 'Your helper left the session',
    helperExit: EXIT.ok, helperReason: 'left', helperSays: 'You left the session',
  }));

test(`the shell's exit after a flood ends both sides as the shell ending, ${RUNS} runs`, { timeout: 300_000 }, (t) =>
  runs(t, async (friend) => {
    friend.write('yes | head -c 3000000; exit\r');
  }, {
    friendExit: EXIT.ok, friendReason: 'shell-exited', friendSays: 'The shared shell ended',
    helperExit: EXIT.ok, helperReason: 'shell-exited', helperSays: 'The shell on your friend\'s computer ended',
  }));
