// Exit paths and secrets (issue 6, promises 6 and 7), with two real processes in real ptys on
// loopback: the helper killed with SIGKILL mid-session, its TCP connection cut (a proxy between
// them is reset), SIGTERM to the helper; after each, the friend's event log ends with
// session-ended and a reason, its exit status says what happened, and no process of the session
// is left. Then secrets: no private key and no password typed at a no-echo prompt on either
// screen or in either event log. (SIGTERM/SIGHUP/SIGINT to the friend: test/session.test.ts;
// stty before/after: test/e2e-tmux.test.ts.)
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { connectedPair, connectedPairWith, listeningPort, sessionProcesses, startSide, until, type Side } from './harness';
import { within } from './attacker';
import { killSession } from '../src/session/processes';
import { EXIT } from '../src/errors';
import { processAlive } from '../src/system';

const HOTKEY = Buffer.from([0x1b, 0x03]);
const BANNER = 'To leave: press Enter, then type ~.';

function cleanup(t: TestContext, ...sides: Side[]) {
  t.after(() => {
    for (const s of sides) {
      s.kill();
      const started = s.events().find((e) => e.event === 'session-started' && e.pid !== undefined);
      if (started) killSession(Number(started.pid));
    }
  });
}

async function noneLeft(sid: number) {
  await until(`the session of ${sid} to be gone`, () => sessionProcesses(sid).length === 0, 5000);
}

/** The friend's log ends with session-ended; returns its reason. */
function endedWith(s: Side): string {
  const ev = s.events();
  const last = ev[ev.length - 1];
  assert.equal(last?.event, 'session-ended', `${s.name}'s event log ends with session-ended: ${JSON.stringify(ev.slice(-3))}`);
  assert.ok(typeof last.reason === 'string' && last.reason.length > 0, 'with a reason');
  return String(last.reason);
}


test('SIGKILL of the helper mid-session: the friend keeps the shell while it waits, then ends with connection lost', async (t) => {
  // A killed helper says no goodbye: the friend waits for it to come back, here for 6 seconds.
  const { friend, helper, shellPid } = await connectedPairWith({ t, friendArgs: ['--reconnect', '0.1'] });
  cleanup(t, friend, helper);
  friend.write('sleep 600 &\r');
  await until('the background job', () => sessionProcesses(shellPid).length >= 2);
  helper.kill('SIGKILL');
  await friend.waitEvent('helper-lost');
  await friend.waitFor(/connection dropped; waiting 0:0\d/);
  friend.write('echo still-$((6*7))\r');
  await friend.waitFor('still-42');
  assert.ok(sessionProcesses(shellPid).length >= 2, 'the shell and its job run on meanwhile');
  const f = await within('the friend to exit', friend.exited, 20_000);
  const reason = endedWith(friend);
  assert.equal(reason, 'connection-lost');
  assert.equal(f.code, EXIT.lost, `exit status ${f.code}`);
  await noneLeft(shellPid);
  assert.ok(!processAlive(helper.pid) && !processAlive(friend.pid));
  t.diagnostic(`SIGKILL of the helper: friend reason ${reason}, exit ${f.code}`);
});

for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
  test(`${signal} to the helper mid-session: both end, the helper exits with the signal status, nothing left running`, async (t) => {
    const { friend, helper, shellPid } = await connectedPair();
    cleanup(t, friend, helper);
    helper.kill(signal);
    const [f, h] = await within('both to exit', Promise.all([friend.exited, helper.exited]), 15_000);
    const reason = endedWith(friend);
    assert.ok(['connection-lost', 'helper-left'].includes(reason), `reason ${reason}`);
    assert.equal(h.code, EXIT.signal, 'the helper exits with the signal status');
    assert.equal(endedWith(helper), 'left');
    assert.notEqual(f.code, EXIT.internal);
    await noneLeft(shellPid);
    t.diagnostic(`${signal} to the helper: friend reason ${reason}, friend exit ${f.code}, helper exit ${h.code}`);
  });
}

test('the helper\'s TCP connection cut mid-session with no reconnect window (reset by a proxy in between): both end with connection lost', async (t) => {
  const helper = startSide('helper', ['helper', '--port', '0', '--reconnect', '0']);
  const helperPort = await listeningPort(helper);
  const pairs: { a: net.Socket; b: net.Socket }[] = [];
  const proxy = net.createServer((a) => {
    const b = net.connect({ host: '127.0.0.1', port: helperPort });
    a.on('error', () => {});
    b.on('error', () => {});
    a.pipe(b);
    b.pipe(a);
    pairs.push({ a, b });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const friend = startSide('friend', ['friend', `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`, '--reconnect', '0']);
  cleanup(t, friend, helper);
  t.after(() => {
    proxy.close();
    for (const p of pairs) (p.a.destroy(), p.b.destroy());
  });
  const shown = await friend.waitEvent('code-shown');
  await helper.waitFor('Type the five symbols');
  helper.write(`${shown.code}\r`);
  await helper.waitFor('Ask your friend to press y');
  friend.write('y\r');
  const shellPid = Number((await friend.waitEvent('session-started')).pid);
  await helper.waitEvent('session-started');
  // The helper's keys count from the shell's first output on (see helper-session.ts).
  await until('the shell prompt on the helper side', () => {
    const out = helper.output();
    const i = out.lastIndexOf(BANNER);
    return i >= 0 && /\S/.test(out.slice(i + BANNER.length));
  });
  helper.write('echo cut-$((2*3))\r');
  await friend.waitFor('cut-6');
  assert.equal(pairs.length, 1);
  // A cut: both legs reset (RST), as when a cable is pulled and a router answers for it.
  pairs[0].a.resetAndDestroy();
  pairs[0].b.resetAndDestroy();
  const [f, h] = await within('both to exit', Promise.all([friend.exited, helper.exited]), 15_000);
  const reason = endedWith(friend);
  assert.equal(reason, 'connection-lost', 'the friend knows the connection was lost');
  assert.equal(f.code, EXIT.lost);
  assert.equal(h.code, EXIT.lost);
  endedWith(helper);
  await noneLeft(shellPid);
  t.diagnostic(`cut: friend ${reason}/${f.code}, helper ${helper.events().at(-1)?.reason}/${h.code}`);
});

test('secrets stay home: no private key and no password typed at a no-echo prompt on either screen or in either log', async (t) => {
  const { friend, helper, shellPid } = await connectedPair();
  cleanup(t, friend, helper);
  const secret = 'Hunter2-s3cret-Pw!';
  friend.write("read -r -s -p 'Password: ' PW; echo; echo got-${#PW}-chars\r");
  await friend.waitFor('Password: ');
  await helper.waitFor('Password: ');
  friend.write(`${secret}\r`);
  await friend.waitFor(`got-${secret.length}-chars`);
  await helper.waitFor(`got-${secret.length}-chars`);
  // The helper types one too, at its own no-echo prompt on the shared shell.
  const helperSecret = 'Helper-0nly-Pw';
  helper.write("read -r -s -p 'Again: ' PW2; echo; echo again-${#PW2}-chars\r");
  await helper.waitFor('Again: ');
  helper.write(`${helperSecret}\r`);
  await friend.waitFor(`again-${helperSecret.length}-chars`);
  friend.write(HOTKEY);
  await within('both to exit', Promise.all([friend.exited, helper.exited]), 15_000);
  await noneLeft(shellPid);

  const places: [string, string][] = [
    ['the friend\'s screen', friend.output()],
    ['the helper\'s screen', helper.output()],
    ['the friend\'s event log', fs.readFileSync(friend.eventsFile, 'utf8')],
    ['the helper\'s event log', fs.readFileSync(helper.eventsFile, 'utf8')],
  ];
  for (const [where, text] of places) {
    assert.ok(!text.includes(secret), `the friend's password is not on ${where}`);
    assert.ok(!text.includes(helperSecret), `the helper's password is not on ${where}`);
    assert.ok(!/PRIVATE KEY/.test(text), `no private key on ${where}`);
    // Every OpenSSH private key's base64 starts with "openssh-key-v1" encoded: b3BlbnNzaC1rZXktdjE.
    assert.ok(!text.includes('b3BlbnNzaC1rZXktdjE'), `no OpenSSH key material on ${where}`);
  }
  assert.ok(friend.output().includes(BANNER) || helper.output().includes(BANNER), 'the session ran');
  for (const s of [friend, helper]) {
    const mode = fs.statSync(s.eventsFile).mode & 0o777;
    assert.equal(mode & 0o077, 0, `${s.name}'s event log is owner-only (mode ${mode.toString(8)})`);
  }
});
