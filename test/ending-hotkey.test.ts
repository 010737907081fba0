// The friend's Ctrl-Alt-C under a flood of output reaches the other side as what it was, RUNS times (ending.ts).
import { test } from 'node:test';
import { EXIT } from '../src/errors';
import { flood, HOTKEY, RUNS, runs } from './ending';

test(`the friend's Ctrl-Alt-C under a flood reaches the helper as the friend's ending, ${RUNS} runs`, { timeout: 280_000 }, (t) =>
  runs(t, async (friend, helper) => {
    await flood(friend, helper, helper);
    friend.write(HOTKEY);
  }, {
    friendExit: EXIT.hotkey, friendReason: 'hotkey', friendSays: 'You ended the session. Your helper has been disconnected.',
    helperExit: EXIT.hotkey, helperReason: 'hotkey', helperSays: 'The friend ended the session.',
  }));
