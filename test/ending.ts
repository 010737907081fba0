// What the ending tests share (ending-*.test.ts): every deliberate ending reaches the other side
// as what it was, also while the shell floods output and the side that hears the goodbye is behind
// reading it (it gets a quarter of the time, as on a busy machine): the friend's Ctrl-Alt-C, the
// helper's ~., the shell's exit. Each is run RUNS times, a few sessions at a time. (Closing the
// connection with the other side's bytes unread makes the kernel reset it, and the reset threw
// away a goodbye not read yet.)
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connectedPairWith, sessionProcesses, until, type Side } from './harness';

export const RUNS = 30;
const AT_ONCE = 3;
export const HOTKEY = '\x1b\x03';

export interface Expected {
  friendExit: number;
  friendReason: string;
  friendSays: string;
  helperExit: number;
  helperReason: string;
  helperSays: string;
}

/** How a side's log says its session ended: the reason, and what it told the person. */
const ended = (s: Side) => {
  const e = s.events().filter((x) => x.event === 'session-ended').at(-1);
  return { reason: e?.reason, says: e?.message };
};

/** One session: flood, end it `how`, and check both sides say what happened. */
async function once(t: TestContext, how: (friend: Side, helper: Side) => Promise<void>, want: Expected) {
  const { friend, helper, shellPid } = await connectedPairWith({ t });
  await how(friend, helper);
  // A side that missed the other's goodbye waits for the link to come back instead of ending.
  const [f, h] = await Promise.race([
    Promise.all([friend.exited, helper.exited]),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(
      `both sides should have ended; the friend's last events: ${JSON.stringify(friend.events().slice(-2))}, ` +
      `the helper's: ${JSON.stringify(helper.events().slice(-2))}`)), 20_000)),
  ]);
  // What the person reads is in the log too (under a flood the last lines of a terminal can be
  // lost to the test when the program exits before they are read).
  const seen = { friend: { exit: f.code, ...ended(friend) }, helper: { exit: h.code, ...ended(helper) } };
  assert.deepEqual(seen, {
    friend: { exit: want.friendExit, reason: want.friendReason, says: want.friendSays },
    helper: { exit: want.helperExit, reason: want.helperReason, says: want.helperSays },
  });
  await until('no process of the shared shell left', () => sessionProcesses(shellPid).length === 0, 5000);
}

/** The friend starts `yes`, the helper sees it stream in, then `slow` falls behind reading. */
export async function flood(friend: Side, helper: Side, slow: Side) {
  friend.write('yes\r');
  await helper.waitFor(/(y\r*\n){20}/, 10_000);
  slow.starve();
  await new Promise((r) => setTimeout(r, 300));
}

export async function runs(t: TestContext, how: (friend: Side, helper: Side) => Promise<void>, want: Expected) {
  for (let i = 0; i < RUNS; i += AT_ONCE) {
    const batch = Array.from({ length: Math.min(AT_ONCE, RUNS - i) }, (_, j) =>
      t.test(`run ${i + j + 1}`, (st) => once(st, how, want)));
    await Promise.all(batch);
  }
}

