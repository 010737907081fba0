// Failures a person meets before any session: nobody comes, nothing answers, the other side is
// not remote-help. Each ends with plain words and its documented exit status, never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { startSide } from './harness';
import { reservePort } from './ports';
import { EXIT } from '../src/errors';

function noStackTrace(out: string) {
  assert.doesNotMatch(out, /\n\s+at .+\(.+:\d+:\d+\)/, 'no stack trace on the screen');
}

test('a helper nobody connects to gives up after --wait and says so', async () => {
  const helper = startSide('helper', ['helper', '--port', '0', '--wait', '0.02']);
  const r = await helper.exited;
  assert.equal(r.code, EXIT.connect);
  await helper.waitFor('Nobody connected within');
  noStackTrace(helper.output());
});

test('a friend whose helper never listens stops trying after --wait and says what to do', async (t) => {
  const port = await reservePort(t); // nothing listens there: every try is refused
  const friend = startSide('friend', ['friend', `127.0.0.1:${port}`, '--wait', '0.05']);
  const r = await friend.exited;
  assert.equal(r.code, EXIT.connect);
  await friend.waitFor(`Nothing is waiting at 127.0.0.1:${port}`);
  noStackTrace(friend.output());
});

test('a friend that reaches a plain SSH server is told it is not remote-help (exit 7)', async () => {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const friend = startSide('friend', ['friend', `127.0.0.1:${port}`]);
    const r = await friend.exited;
    assert.equal(r.code, EXIT.protocol);
    await friend.waitFor('plain SSH');
    noStackTrace(friend.output());
  } finally {
    server.close();
  }
});

test('a port already in use is a clear error, not a crash', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '::', () => r()));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const helper = startSide('helper', ['helper', '--port', String(port)]);
    const r = await helper.exited;
    assert.equal(r.code, EXIT.connect);
    await helper.waitFor(`Port ${port} is already in use`);
  } finally {
    blocker.close();
  }
});

test('bad usage exits with status 2 and says what is wrong', async () => {
  for (const args of [['friend', 'not an address!'], ['helper', '--port', 'http'], ['helper', '--wait', 'soon'], ['dance']]) {
    const side = startSide('cli', args);
    const r = await side.exited;
    assert.equal(r.code, EXIT.usage, args.join(' '));
    noStackTrace(side.output());
  }
});
