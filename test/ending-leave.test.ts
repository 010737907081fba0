// The helper's ~. under a flood of output reaches the other side as what it was, RUNS times (ending.ts).
import { test } from 'node:test';
import { EXIT } from '../src/errors';
import { flood, RUNS, runs } from './ending';

test(`the helper's ~. under a flood reaches the friend as the helper leaving, ${RUNS} runs`, { timeout: 280_000 }, (t) =>
  runs(t, async (friend, helper) => {
    await flood(friend, helper, friend);
    helper.write('\r~.');
  }, {
    friendExit: EXIT.ok, friendReason: 'helper-left', friendSays: 'Your helper left the session.',
    helperExit: EXIT.ok, helperReason: 'left', helperSays: 'You left the session.',
  }));
