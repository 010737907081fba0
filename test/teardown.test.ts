// The teardown owner (src/teardown.ts): the shared shell dies first, every step runs even when one
// throws, slow steps are waited for. And with real processes: an error injected into the middle of
// the friend's ending still leaves no process of the shell and the terminal as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Teardown } from '../src/teardown';
import { FRIEND, HELPER, launch, noneLeft, noStackTrace, sessionStartedPid, setup, terminal } from './e2e';
import { shellQuote } from './tmux';
import { until } from './harness';

test('the first steps run before all others, then the newest first; a release runs its step once, now', () => {
  const t = new Teardown();
  const ran: string[] = [];
  t.add('raw mode', () => void ran.push('raw mode'));
  t.add('shell', () => void ran.push('shell'), { first: true });
  const release = t.add('socket', () => void ran.push('socket'));
  t.add('transcript', () => void ran.push('transcript'));
  release();
  release();
  assert.deepEqual(ran, ['socket']);
  void t.run();
  assert.deepEqual(ran, ['socket', 'shell', 'transcript', 'raw mode']);
  t.add('late', () => void ran.push('late'));
  assert.deepEqual(ran.at(-1), 'late', 'added after the teardown ran: undone at once');
});

test('a step that throws never stops the others, and is recorded', async () => {
  const t = new Teardown();
  const ran: string[] = [];
  t.add('raw mode', () => void ran.push('raw mode'));
  t.add('broken', () => {
    throw new Error('boom');
  });
  t.add('rejects', () => Promise.reject(new Error('later boom')));
  t.add('shell', () => void ran.push('shell'), { first: true });
  await t.run();
  assert.deepEqual(ran, ['shell', 'raw mode']);
  assert.deepEqual(t.failures, [{ step: 'broken', error: 'boom' }, { step: 'rejects', error: 'later boom' }]);
});

test('slow steps start at once and finish before `finished` resolves', async () => {
  const t = new Teardown();
  const ran: string[] = [];
  t.add('goodbye', () => new Promise<void>((r) => setTimeout(() => (ran.push('goodbye out'), r()), 30)));
  t.add('raw mode', () => void ran.push('raw mode'));
  const done = t.run();
  assert.deepEqual(ran, ['raw mode'], 'the slow step does not hold up the others');
  await done;
  await t.finished;
  assert.deepEqual(ran, ['raw mode', 'goodbye out']);
});

test('tmux: an error injected into the middle of the friend\'s ending: the shell and its jobs die, the terminal is as before', async (t) => {
  const { dir, tmux } = await setup(t);
  const friend = await terminal(tmux, 'friend', FRIEND, dir);
  const helper = await terminal(tmux, 'helper', HELPER, dir);
  const helperEvents = path.join(dir, 'helper-events.jsonl');
  const friendEvents = path.join(dir, 'friend-events.jsonl');
  const events = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
  const h = await launch(helper, dir, `helper --port 0 --reconnect 0 --plain --session screen --events ${shellQuote(helperEvents)}`);
  const port = (await until('the helper to listen', () => events(helperEvents).find((e) => e.event === 'listening'))).port;
  await friend.line(`export NODE_OPTIONS=--require=${shellQuote(path.join(__dirname, 'fixtures', 'teardown-fault.cjs'))}`);
  const f = await launch(friend, dir, `friend 127.0.0.1:${port} --plain --session screen --events ${shellQuote(friendEvents)}`);
  const shown = await until('the code', () => events(friendEvents).find((e) => e.event === 'code-shown'));
  await helper.waitFor('Type the five symbols you hear, then press Enter.');
  await helper.line(String(shown.code).toLowerCase());
  await helper.waitFor('The code matches. Ask your friend to press y.');
  await friend.line('y');
  await helper.waitFor(/To leave: press Enter, then type ~\.\n+.*\S/);
  const shellPid = sessionStartedPid(friendEvents);
  await helper.line('sleep 600 & echo job-$((6*7))');
  await friend.waitFor(/^job-42/m);
  await friend.bytes('1b', '03'); // Ctrl-Alt-C: the ending that the fault breaks halfway
  const r = await f.finished();
  assert.equal(r.exit, 1, 'the friend exits with the status of an unexpected problem');
  assert.equal(r.after, r.before, 'the friend\'s terminal settings are as before');
  await noneLeft(shellPid);
  noStackTrace(await friend.screen(), 'friend');
  const failed = events(friendEvents).filter((e) => e.event === 'failed').map((e) => String(e.reason));
  assert.ok(failed.some((m) => /stopSeeking/.test(m)), `the fault in the ending is logged: ${JSON.stringify(failed)}`);
  assert.ok(failed.some((m) => /teardown step "link supervisor"/.test(m)), `the fault in the teardown is logged: ${JSON.stringify(failed)}`);
  const hr = await h.finished();
  assert.notEqual(hr.exit, 0, 'the helper does not take it for a normal ending');
  assert.equal(hr.after, hr.before);
});
