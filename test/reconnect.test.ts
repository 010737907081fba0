// A helper's link that drops mid-session, with two real remote-help processes in real ptys on
// loopback: a small TCP proxy of our own sits between the side that dials and the side that waits,
// so the live connection can be cut (both sockets destroyed) and the way back closed and opened
// again. Also the friend's transcript of a real session, played by the real asciinema.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as pty from '@lydell/node-pty';
import { killSession } from '../src/session/processes';
import { BIN, NODE, ROOT, confirmCode, connectedPairWith, listeningPort, release, startSide, tempDir, until, type Side } from './harness';
import { reservePort } from './ports';

const HOTKEY = Buffer.from([0x1b, 0x03]);
const ASCIINEMA = '/usr/bin/asciinema';
const noAsciinema = fs.existsSync(ASCIINEMA) ? false : `${ASCIINEMA} is not installed (CI installs it: apt-get install asciinema)`;

// --- A cuttable TCP proxy on 127.0.0.1 -------------------------------------------------------

interface Proxy {
  port: number;
  /** Connections accepted so far. */
  accepted(): number;
  /** Destroys both sockets of every live proxied connection. */
  cut(): void;
  /** Stops accepting (dials are refused) until open() listens on the same port again; the port
   * stays reserved meanwhile (ports.ts), so nobody else gets it. */
  shut(): Promise<void>;
  open(): Promise<void>;
  /** While on, each new connection is accepted and closed at once (a link that resets). */
  dropNew(on: boolean): void;
  close(): void;
}

async function startProxy(t: TestContext, target: number): Promise<Proxy> {
  const live = new Set<net.Socket>();
  let accepted = 0;
  let server: net.Server | null = null;
  let dropping = false;
  const onClient = (client: net.Socket) => {
    accepted++;
    if (dropping) {
      client.on('error', () => {});
      client.destroy();
      return;
    }
    const upstream = net.connect(target, '127.0.0.1');
    const pair = [client, upstream];
    for (const s of pair) {
      live.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        live.delete(s);
        for (const other of pair) other.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const s = net.createServer(onClient);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        resolve((s.address() as net.AddressInfo).port);
      });
    });
  const port = await listen(await reservePort(t));
  return {
    port,
    accepted: () => accepted,
    cut() {
      for (const s of [...live]) s.destroy();
    },
    async shut() {
      const s = server;
      server = null;
      // close() stops accepting at once; its callback waits for live connections, so not awaited.
      s?.close();
    },
    async open() {
      if (!server) await listen(port);
    },
    dropNew(on) {
      dropping = on;
    },
    close() {
      server?.close();
      server = null;
      for (const s of [...live]) s.destroy();
    },
  };
}

// --- A pair whose dialling side goes through the proxy ---------------------------------------

/** Kills a side and the shell session it started when the test ends, whatever happened (harness.ts). */
function cleanupFor(t: TestContext, ...sides: Side[]) {
  t.after(() => {
    for (const s of sides) {
      // REMOTE_HELP_TEST_DUMP=1: each side's events and last rows, to see where a failure stopped.
      if (process.env.REMOTE_HELP_TEST_DUMP) {
        const evs = s.events().map((e) => `${String(e.time).slice(17, 23)} ${e.event} ${e.reason ?? e.error ?? e.resume ?? e.attempt ?? ''}`);
        console.error(`${s.name}:\n  ${evs.join('\n  ')}\n  screen: ${JSON.stringify(s.screen().split('\n').slice(-3))}`);
      }
      release(s);
    }
  });
}

/** connectedPair (harness.ts) with the dialling side pointed at a proxy in front of the waiting side. */
async function proxiedPair(t: TestContext, o: { reverse: boolean; args?: string[]; friendEnv?: Record<string, string> }) {
  // The waiting side stops listening once the session starts and listens on the same port again
  // after a cut: the port is reserved for the whole test (ports.ts), not one the system picked for
  // the first listen and might give to anyone in between.
  const port = await reservePort(t);
  const proxy = await startProxy(t, port);
  t.after(() => proxy.close());
  const via = `127.0.0.1:${proxy.port}`;
  const extra = o.args ?? [];
  let friend: Side;
  let helper: Side;
  if (o.reverse) {
    friend = startSide('friend', ['friend', '--reverse', '--port', String(port), ...extra], { env: o.friendEnv });
    cleanupFor(t, friend);
    assert.equal(await listeningPort(friend), port);
    helper = startSide('helper', ['helper', '--reverse', via, ...extra]);
    cleanupFor(t, helper);
  } else {
    helper = startSide('helper', ['helper', '--port', String(port), ...extra]);
    cleanupFor(t, helper);
    assert.equal(await listeningPort(helper), port);
    friend = startSide('friend', ['friend', via, ...extra], { env: o.friendEnv });
    cleanupFor(t, friend);
  }
  const { shellPid } = await confirmCode(friend, helper);
  assert.equal(proxy.accepted(), 1, 'the session went through the proxy');
  return { friend, helper, proxy, port, shellPid };
}

const count = (s: Side, name: string) => s.events().filter((e) => e.event === name).length;
const statusLine = (s: Side) => s.screen().split('\n').at(-1) ?? '';
/** The waiting side listens on its port again, for a resumed session. */
const relistened = (s: Side) => until(`${s.name} to listen again`, () => s.events().some((e) => e.event === 'listening' && e.resume === true));

// --- 1. A cut mid-session, both directions ---------------------------------------------------

for (const reverse of [false, true]) {
  const how = reverse ? 'reverse: the helper dials the waiting friend' : 'direct: the friend dials the waiting helper';
  test(`the helper's TCP connection cut mid-session: the friend keeps working, the helper reconnects without a new code and sees the current screen (${how})`, { timeout: 60_000 }, async (t) => {
    const { friend, helper, proxy } = await proxiedPair(t, { reverse });
    const dialler = reverse ? helper : friend;
    const waiter = reverse ? friend : helper;
    helper.write('echo before-$((3+4))\r');
    await friend.waitFor('before-7');

    // The network goes away: the live connection is cut and redials are refused for now.
    await proxy.shut();
    proxy.cut();
    await friend.waitEvent('helper-lost');
    await helper.waitEvent('helper-lost');
    await until('the friend\'s status line to say the connection dropped', () => /connection dropped/.test(statusLine(friend)));
    assert.match(statusLine(friend), /waiting \d+:\d\d/);
    friend.write('echo friend-alone-$((6*7))\r');
    await friend.waitFor('friend-alone-42');
    assert.ok(!helper.output().includes('friend-alone-42'), 'the helper cannot see anything while cut off');
    await relistened(waiter);
    await until(`${dialler.name} to try again`, () => count(dialler, 'reconnecting') >= 2);
    assert.equal(count(friend, 'helper-back'), 0);

    // The network comes back: the dialler's next try goes through the proxy.
    await proxy.open();
    await friend.waitEvent('helper-back', 10_000);
    await helper.waitEvent('relinked', 10_000);
    assert.equal(proxy.accepted(), 2, 'the redial went through the proxy');
    assert.equal(count(friend, 'code-shown'), 1, 'no second code on the friend\'s side');
    assert.equal(count(helper, 'code-shown'), 1, 'no second code on the helper\'s side');
    // The fresh screen: what the friend typed while the helper was away.
    await until('the fresh screen on the helper\'s side', () => helper.screen().includes('friend-alone-42'));
    assert.ok(helper.output().includes('\x1b[0m\x1b[H\x1b[2J'), 'the fresh screen starts by clearing the helper\'s');
    await until('the friend\'s status line to stop counting down', () => !/connection dropped/.test(statusLine(friend)));

    // And the session goes on.
    helper.write('echo back-$((5*5))\r');
    await helper.waitFor('back-25');
    await until('back-25 on the friend\'s screen', () => friend.screen().includes('back-25'));
    friend.write(HOTKEY);
    const [f, h] = await Promise.all([friend.exited, helper.exited]);
    assert.equal(f.code, 5, 'friend exit status: ended by the hotkey');
    assert.ok([5, 6].includes(h.code), `helper exit status ${h.code}`);
  });
}

// --- 2. No reconnect window ------------------------------------------------------------------

for (const reverse of [false, true]) {
  test(`no reconnect window: the cut ends the session (${reverse ? 'reverse' : 'direct'})`, { timeout: 40_000 }, async (t) => {
    const { friend, helper, proxy, shellPid } = await proxiedPair(t, { reverse, args: ['--reconnect', '0'] });
    helper.write('echo linked-$((2+2))\r');
    await friend.waitFor('linked-4');
    proxy.cut();
    const [f, h] = await Promise.all([friend.exited, helper.exited]);
    assert.equal(f.code, 6, 'friend exit status: the connection was lost');
    assert.equal(h.code, 6, 'helper exit status: the connection was lost');
    assert.equal(friend.events().find((e) => e.event === 'session-ended')?.reason, 'connection-lost');
    assert.equal(count(friend, 'reconnecting') + count(helper, 'reconnecting'), 0, 'nobody redials');
    assert.equal(proxy.accepted(), 1);
    await until('the shell to be gone', () => {
      try {
        process.kill(shellPid, 0);
        return false;
      } catch {
        return true;
      }
    }, 5000);
  });
}

// --- 3. Strangers on the friend's port while the helper is away ------------------------------

/** Connects to 127.0.0.1:port, sends `data`, resolves when the other side closes the socket. */
function stranger(port: number, data: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(data));
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`the friend kept a stranger sending ${JSON.stringify(data)} on the line`));
    }, 5000);
    s.on('error', () => {});
    s.on('data', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

test('a stranger cannot take the helper\'s place: garbage and a wrong session line are turned away, the real helper comes back', { timeout: 60_000 }, async (t) => {
  const { friend, helper, proxy, port } = await proxiedPair(t, { reverse: true });
  await proxy.shut();
  proxy.cut();
  await friend.waitEvent('helper-lost');
  await relistened(friend);

  await stranger(port, 'GET / HTTP/1.0\r\n\r\n');
  await until('the first stranger to be logged', () => count(friend, 'rejected-connection') >= 1);
  await stranger(port, `remote-help resume ${'0'.repeat(32)}\n`);
  await until('the second stranger to be logged', () => count(friend, 'rejected-connection') >= 2);
  // A stranger who knows the form of the line but sends garbage after the right prefix, in pieces.
  await stranger(port, 'remote-help resume zz');
  await until('the third stranger to be logged', () => count(friend, 'rejected-connection') >= 3);
  assert.equal(count(friend, 'helper-back'), 0, 'no stranger got in');
  assert.equal(count(friend, 'session-ended'), 0, 'the session survives the strangers');
  friend.write('echo still-here-$((8*8))\r');
  await friend.waitFor('still-here-64');

  await proxy.open();
  await friend.waitEvent('helper-back', 10_000);
  await helper.waitEvent('relinked', 10_000);
  assert.equal(count(friend, 'code-shown'), 1);
  helper.write('echo real-helper-$((9*9))\r');
  await helper.waitFor('real-helper-81');
  await until('real-helper-81 on the friend\'s screen', () => friend.screen().includes('real-helper-81'));
  friend.write(HOTKEY);
  const [f, h] = await Promise.all([friend.exited, helper.exited]);
  assert.equal(f.code, 5);
  assert.ok([5, 6].includes(h.code), `helper exit status ${h.code}`);
});

// The friend, when it is the side that dials, must keep dialling after a try that connected but
// was closed before SSH started (a link that resets, or anything else on the helper's port).
test('direct: a redial that is accepted and then closed does not stop the friend from dialling again', {
  timeout: 40_000,
}, async (t) => {
  const { friend, helper, proxy } = await proxiedPair(t, { reverse: false });
  proxy.dropNew(true);
  proxy.cut();
  await friend.waitEvent('helper-lost');
  await relistened(helper);
  await until('a redial to be accepted and dropped', () => proxy.accepted() >= 2);
  proxy.dropNew(false);
  await until('the friend to dial again after the dropped try', () => proxy.accepted() >= 3, 10_000);
  await friend.waitEvent('helper-back', 10_000);
  await helper.waitEvent('relinked', 10_000);
  helper.write('echo after-reset-$((4*4))\r');
  await until('after-reset-16 on the friend\'s screen', () => friend.screen().includes('after-reset-16'));
  friend.write(HOTKEY);
  const [f, h] = await Promise.all([friend.exited, helper.exited]);
  assert.equal(f.code, 5);
  assert.ok([5, 6].includes(h.code), `helper exit status ${h.code}`);
});

// --- 4 and 5. The transcript of a real session -----------------------------------------------

/** `asciinema cat` reads /dev/tty, so it runs in a pty. */
function asciinemaCat(file: string): Promise<{ text: string; status: number }> {
  return new Promise((resolve) => {
    const p = pty.spawn(ASCIINEMA, ['cat', file], { cols: 80, rows: 24, env: { ...process.env, TERM: 'xterm' } as Record<string, string> });
    let text = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
    p.onData((d) => (text += d));
    p.onExit(({ exitCode }) => {
      clearTimeout(timer);
      resolve({ text, status: exitCode });
    });
  });
}

function cli(args: string[], env: Record<string, string>) {
  const r = spawnSync(NODE, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

type CastEvent = [number, string, string];
const castEvents = (file: string): CastEvent[] =>
  fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(1).map((l) => JSON.parse(l));

test('the transcript plays with asciinema cat, has what the helper typed (attributed) and not the friend\'s password', { skip: noAsciinema, timeout: 60_000 }, async (t) => {
  const dir = tempDir();
  const { friend, helper, shellPid } = await connectedPairWith({ t, friendEnv: { REMOTE_HELP_STATE_DIR: dir } });
  helper.write('echo helper-did-this\r');
  await friend.waitFor(/\nhelper-did-this/);
  friend.write('read -s -p \'pw: \' PW; echo got-${#PW}\r');
  await until('the password prompt', () => friend.screen().split('\n').some((l) => l === 'pw:'));
  friend.write('hunter2-secret\r');
  await friend.waitFor('got-14');
  await helper.waitFor('got-14');
  friend.write(HOTKEY);
  const [f, h] = await Promise.all([friend.exited, helper.exited]);
  assert.equal(f.code, 5);
  assert.equal(h.code, 5);

  const file = String(friend.events().find((e) => e.event === 'transcript')?.path ?? '');
  assert.ok(file.startsWith(dir), `the transcript is in REMOTE_HELP_STATE_DIR: ${file}`);
  assert.ok(fs.existsSync(file));
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.ok(friend.output().includes(file), 'the friend is told where the transcript is');

  const { text, status } = await asciinemaCat(file);
  assert.equal(status, 0, text);
  assert.match(text, /helper-did-this/);
  assert.match(text, /got-14/);
  assert.doesNotMatch(text, /hunter2-secret/);

  const raw = fs.readFileSync(file, 'utf8');
  assert.ok(!raw.includes('hunter2'), 'the password is nowhere in the file');
  const evs = castEvents(file);
  const inputs = evs.filter((e) => e[1] === 'i').map((e) => e[2]);
  assert.match(inputs.join(''), /echo helper-did-this/);
  for (const i of inputs) {
    assert.ok(!i.includes('hunter2'), `a friend's keystroke was recorded: ${JSON.stringify(i)}`);
    assert.ok(!i.includes('read -s'), `a friend's keystroke was recorded: ${JSON.stringify(i)}`);
  }
  const markers = evs.filter((e) => e[1] === 'm').map((e) => e[2]);
  assert.ok(markers.some((m) => /^helper connected: \S+@\S+/.test(m)), `markers: ${JSON.stringify(markers)}`);
  assert.equal(markers.at(-1), 'session ended: hotkey');
  const output = evs.filter((e) => e[1] === 'o').map((e) => e[2]).join('');
  assert.match(output, /helper-did-this/);

  const list = cli(['transcripts'], { REMOTE_HELP_STATE_DIR: dir });
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /^1 transcript, newest first:/);
  assert.ok(list.stdout.includes(file));
  assert.match(list.stdout, /session ended: hotkey/);

  const replay = cli(['replay', file, '--instant'], {});
  assert.equal(replay.status, 0, replay.stderr);
  assert.match(replay.stdout, /helper-did-this/);
  assert.doesNotMatch(replay.stdout, /hunter2/);
});

test('the transcript survives a friend killed with SIGKILL: asciinema cat still plays the output so far', { skip: noAsciinema, timeout: 60_000 }, async (t) => {
  const dir = tempDir();
  const { friend, helper, shellPid } = await connectedPairWith({ t, friendEnv: { REMOTE_HELP_STATE_DIR: dir } });
  helper.write('echo before-the-kill-$((3*3))\r');
  await friend.waitFor('before-the-kill-9');
  const file = String(friend.events().find((e) => e.event === 'transcript')?.path ?? '');
  await until('the output in the file', () => fs.readFileSync(file, 'utf8').includes('before-the-kill-9'), 5000);
  friend.kill('SIGKILL');
  await friend.exited;
  killSession(shellPid);
  helper.kill();

  const evs = castEvents(file); // every line whole
  assert.ok(!evs.some((e) => e[1] === 'm' && e[2].startsWith('session ended')), 'nobody wrote an end');
  const { text, status } = await asciinemaCat(file);
  assert.equal(status, 0, text);
  assert.match(text, /before-the-kill-9/);
  const list = cli(['transcripts'], { REMOTE_HELP_STATE_DIR: dir });
  assert.match(list.stdout, /still running or interrupted/);
});
