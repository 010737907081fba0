// The whole core path with two real processes in real ptys on loopback: real sockets, real ssh2,
// a real shared pty. Each test ends with no process of the session left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectedPair, connectedPairWith, sessionProcesses, until } from './harness';

const HOTKEY = Buffer.from([0x1b, 0x03]);
const F12 = Buffer.from('\x1b[24~');

async function noneLeft(sid: number) {
  await until(`the session of ${sid} to be gone`, () => sessionProcesses(sid).length === 0, 5000);
}

test('direct: both type into one shell, the friend\'s Ctrl-Alt-C ends both sides and kills the shell', async () => {
  const { friend, helper, shellPid } = await connectedPair();
  helper.write('echo from-$((40+2))-helper\r');
  await friend.waitFor('from-42-helper');
  await helper.waitFor('from-42-helper');
  friend.write('echo from-$((50+5))-friend\r');
  await helper.waitFor('from-55-friend');
  friend.write('sleep 600 &\r');
  await until('the background job', () => sessionProcesses(shellPid).length >= 2);
  friend.write(HOTKEY);
  const [f, h] = await Promise.all([friend.exited, helper.exited]);
  assert.equal(f.code, 5, 'friend exit status: ended by the hotkey');
  assert.equal(h.code, 5, 'helper exit status: the friend ended it');
  await helper.waitFor('The friend ended the session');
  await noneLeft(shellPid);
  const ended = friend.events().find((e) => e.event === 'session-ended');
  assert.equal(ended?.reason, 'hotkey');
});

test('reverse: the helper connects to a waiting friend; F12 ends it', async () => {
  const { friend, helper, shellPid } = await connectedPair({ reverse: true });
  helper.write('echo reverse-$((6*7))\r');
  await friend.waitFor('reverse-42');
  friend.write(F12);
  const [f, h] = await Promise.all([friend.exited, helper.exited]);
  assert.equal(f.code, 5);
  assert.equal(h.code, 5);
  await noneLeft(shellPid);
});

test('the helper leaves with ~. after Enter; the friend is told and the shell is gone', async () => {
  const { friend, helper, shellPid } = await connectedPair();
  helper.write('echo ready-$((1+1))\r');
  await helper.waitFor('ready-2');
  helper.write('\r~.');
  const [f, h] = await Promise.all([friend.exited, helper.exited]);
  assert.equal(h.code, 0);
  assert.equal(f.code, 0);
  await friend.waitFor('Your helper left the session');
  await noneLeft(shellPid);
});

test('the shell exiting ends the session on both sides with status 0', async () => {
  const { friend, helper, shellPid } = await connectedPair();
  helper.write('exit\r');
  const [f, h] = await Promise.all([friend.exited, helper.exited]);
  assert.equal(f.code, 0);
  assert.equal(h.code, 0);
  await noneLeft(shellPid);
});

test('the hotkey works while the shell floods output and the helper has stopped reading', async (t) => {
  // A stopped helper may never read the friend's goodbye (it sits behind the flood), and would
  // then wait for the link to come back: here it gives up at once instead.
  const { friend, helper, shellPid } = await connectedPairWith({ t, helperArgs: ['--reconnect', '0'] });
  helper.kill('SIGSTOP');
  try {
    friend.write('yes flood-flood-flood\r');
    await friend.waitFor(/(flood-flood-flood\s+){20}/);
    friend.write(HOTKEY);
    const f = await friend.exited;
    assert.equal(f.code, 5);
    await noneLeft(shellPid);
  } finally {
    helper.kill('SIGCONT');
  }
  const h = await helper.exited;
  assert.ok([5, 6].includes(h.code), `helper exit status ${h.code} says the friend ended it or the link went`);
});

for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
  test(`${signal} to the friend's program ends the session like the hotkey`, async () => {
    const { friend, helper, shellPid } = await connectedPair();
    friend.kill(signal);
    const [f, h] = await Promise.all([friend.exited, helper.exited]);
    assert.equal(f.code, 9, 'friend exit status: stopped by a signal');
    assert.notEqual(h.code, 0);
    await noneLeft(shellPid);
    const ended = friend.events().find((e) => e.event === 'session-ended');
    assert.equal(ended?.reason, 'signal');
  });
}

test('the shared pty takes the smaller terminal on each axis and follows resizes of both', async () => {
  const { friend, helper } = await connectedPair({ friendSize: { cols: 80, rows: 25 }, helperSize: { cols: 100, rows: 30 } });
  try {
    const size = async (expect: string) => {
      helper.write('echo size-$(stty size | tr " " x)-end\r');
      await helper.waitFor(`size-${expect}-end`);
    };
    await size('24x80'); // each side's last row is its status line
    helper.resize(70, 20);
    await friend.waitEvent('resized');
    await size('19x70');
    friend.resize(60, 40);
    await until('the friend resize', () => friend.events().filter((e) => e.event === 'resized').length >= 2);
    await size('19x60');
  } finally {
    friend.write(HOTKEY);
    await Promise.all([friend.exited, helper.exited]);
  }
});
