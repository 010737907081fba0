// An unexpected error inside the friend's program mid-session (injected from outside, not a switch
// in the product) ends the session like the hotkey: shell gone, helper told, reason logged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { connectedPair, sessionProcesses, until } from './harness';
import { EXIT } from '../src/errors';

const FAULT = path.join(__dirname, 'fixtures', 'fault.cjs');

test('an unexpected error in the friend\'s program mid-session ends it cleanly, with no stack trace and nothing left', async () => {
  const { friend, helper, shellPid } = await connectedPair({ friendEnv: { NODE_OPTIONS: `--require ${FAULT}` } });
  helper.write('sleep 600 &\r');
  await until('the background job', () => sessionProcesses(shellPid).length >= 2);
  const [f, h] = await Promise.all([friend.exited, helper.exited]);
  assert.equal(f.code, EXIT.internal);
  assert.notEqual(h.code, EXIT.ok);
  await until('the session to be gone', () => sessionProcesses(shellPid).length === 0, 5000);
  const events = friend.events();
  assert.equal(events.find((e) => e.event === 'session-ended')?.reason, 'error');
  assert.match(friend.output(), /ran into a problem and ended the session/);
  assert.doesNotMatch(friend.output(), /\n\s+at .+:\d+:\d+/, 'no stack trace on the friend\'s screen');
  await helper.waitFor('ran into a problem');
});
