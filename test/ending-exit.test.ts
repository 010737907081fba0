// The shell's exit after a flood of output reaches the other side as what it was, RUNS times (ending.ts).
import { test } from 'node:test';
import { EXIT } from '../src/errors';
import { RUNS, runs } from './ending';

test(`the shell's exit after a flood ends both sides as the shell ending, ${RUNS} runs`, { timeout: 280_000 }, (t) =>
  runs(t, async (friend, helper) => {
    friend.write('yes | head -c 1000000; exit\r');
    await helper.waitFor(/(y\r*\n){20}/, 10_000);
    helper.starve();
  }, {
    friendExit: EXIT.ok, friendReason: 'shell-exited', friendSays: 'The shared shell ended.',
    helperExit: EXIT.ok, helperReason: 'shell-exited', helperSays: 'The shell on your friend\'s computer ended.',
  }));
