// The security review's findings (issue 11), each as the attack that worked: a real remote-help
// process in a real pty on loopback, the attacker in this process (test/attacker.ts): the
// project's own handshake, then ssh2 directly, or raw bytes.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import type { Client, ClientChannel } from 'ssh2';
import { EXIT } from '../src/errors';
import { CONTROL_SUBSYSTEM } from '../src/net/control';
import { freshKey } from '../src/net/keys';
import { resumeLine, resumeToken } from '../src/net/returning';
import { dial } from '../src/net/tcp';
import { handshakeOn } from '../src/net/verify';
import { collect, dialHandshake, identity, outcome, sshClient, TIMEOUTS, within, type Attack } from './attacker';
import { listeningPort, sessionProcesses, sideFor, until, type Side } from './harness';

const HOTKEY = Buffer.from([0x1b, 0x03]);
/** Escape sequences a hostile peer would like on the other person's terminal: a clipboard write
 * (OSC 52), a window title (OSC 0), a cleared screen and a forged reverse-video banner. */
const EVIL = '\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x07\x1b[2J\x1b[7m FAKE BANNER: call 555-0100 \x1b[0m';

/** Whether a terminal's raw output carries any of EVIL's sequences. */
function carriesEvil(raw: string): boolean {
  return raw.includes('\x1b]52;') || raw.includes('\x1b]0;pwned') || raw.includes('\x1b[7m FAKE BANNER');
}

/** A real friend waiting with --reverse; the attacker dials it, holds the verified helper key and
 * logs in over SSH once the friend pressed y. */
async function verifiedAttacker(t: TestContext, friendArgs: string[] = []) {
  const friend = sideFor(t, 'friend', ['friend', '--reverse', '--port', '0', ...friendArgs]);
  const port = await listeningPort(friend);
  const key = freshKey();
  const attack: Attack = await dialHandshake(port, 'helper', key);
  t.after(() => attack.link.stream.destroy());
  await friend.waitEvent('code-shown');
  attack.verifying.confirm();
  await friend.waitEvent('peer-confirmed');
  friend.write('y\r');
  const { stream, peer } = await within('the handshake to finish', attack.verifying.finished);
  const client = await sshClient(stream, { privateKey: key.privateKey, hostKey: peer.publicKey });
  t.after(() => client.end());
  return { friend, port, key, peer, client, stream };
}

/** Opens the shell (a pty request first, as a terminal would) and waits for its first output. */
async function openShell(client: Client) {
  const r = await outcome<ClientChannel>('the shell', (cb) => client.shell({ term: 'xterm', cols: 80, rows: 24 }, cb));
  assert.ifError(r.err);
  const seen = collect(r.value!);
  await until('the shell\'s first output', () => /\S/.test(seen()));
  return { shell: r.value!, seen };
}

/** The control subsystem on a new session, then a shell asked for on that same channel. */
async function shellOnTheControlChannel(client: Client) {
  const control = await outcome<ClientChannel>('the control channel', (cb) => client.subsys(CONTROL_SUBSYSTEM, cb));
  assert.ifError(control.err);
  const proto = (client as unknown as { _protocol: { shell(id: number, want: boolean): void } })._protocol;
  proto.shell((control.value as unknown as { outgoing: { id: number } }).outgoing.id, false);
}

const refused = (s: Side, request: string) => s.events().some((e) => e.event === 'request-refused' && e.request === request);

async function endWithHotkey(friend: Side, shellPid: number) {
  friend.write(HOTKEY);
  const f = await within('the friend to exit', friend.exited);
  assert.equal(f.code, EXIT.hotkey, 'the friend ends as the hotkey ends it, not as a crash');
  await until(`no process of the session ${shellPid} left`, () => sessionProcesses(shellPid).length === 0, 5000);
  assert.doesNotMatch(friend.output(), /\n\s+at .+:\d+:\d+/, 'no stack trace on the friend\'s screen');
}

// --- Finding 1: nothing the other side chooses reaches a terminal raw -------------------------

test('finding 1: escape sequences in refused requests never reach the friend\'s terminal, before or after the shell; a burst is told in a line or two', async (t) => {
  const { friend, client } = await verifiedAttacker(t);
  // Before the shell: shown as a line of its own.
  const exec = await outcome('exec', (cb) => client.exec(EVIL, cb));
  assert.ok(exec.err);
  const env = await outcome('exec with env', (cb) => client.exec('true', { env: { [`X${EVIL}`]: '1' } }, cb));
  assert.ok(env.err);
  const sub = await outcome('subsystem', (cb) => client.subsys(EVIL, cb));
  assert.ok(sub.err);
  await until('the refusals in the events log', () => friend.events().filter((e) => e.event === 'request-refused').length >= 4);
  await openShell(client);
  const started = await friend.waitEvent('session-started');
  // After the shell: on the status line. A burst of 40 is one notice, then a count.
  for (let i = 0; i < 40; i++) client.exec(`${EVIL} ${i}`, () => {});
  await until('40 more refusals logged', () => friend.events().filter((e) => e.event === 'request-refused').length >= 44);
  await friend.waitFor(/refused \d+ more requests? from your helper/, 5000);
  const fwd = await outcome('forwardOut', (cb) => client.forwardOut('127.0.0.1', 1, EVIL, 22, cb));
  assert.ok(fwd.err);
  await until('the forwarding refusal', () => refused(friend, 'direct-tcpip'));
  await new Promise((r) => setTimeout(r, 300)); // a painter frame or two
  assert.equal(carriesEvil(friend.output()), false, `the friend's terminal got raw sequences: ${JSON.stringify(friend.output().slice(-400))}`);
  assert.match(friend.output(), /FAKE BANNER/, 'the request is still shown, as harmless text');
  const notices = friend.output().match(/Your helper tried to run a command/g) ?? [];
  assert.ok(notices.length <= 3, `the burst of 40 was shown ${notices.length} times`);
  await endWithHotkey(friend, Number(started.pid));
});

test('finding 1/10: an SSH DISCONNECT whose text carries escape sequences never reaches the helper\'s terminal', async (t) => {
  const helper = sideFor(t, 'helper', ['helper', '--port', '0']);
  const port = await listeningPort(helper);
  // The attacker plays the friend: the honest handshake, then, where SSH should start, its
  // identification and a DISCONNECT packet in clear (allowed before key exchange, so anyone
  // able to write into the TCP stream could send it).
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const attack = await acceptHandshakeAsDialler(socket);
  const shown = await helper.waitEvent('code-shown');
  await helper.waitFor('Type the five symbols');
  helper.write(`${String(shown.code).toLowerCase()}\r`);
  attack.verifying.confirm();
  const { stream } = await within('the handshake to finish', attack.verifying.finished);
  stream.write('SSH-2.0-attacker\r\n');
  stream.write(disconnectPacket(2, `${EVIL} goodbye`)); // 2: protocol error (11, by application, is not reported)
  const h = await within('the helper to exit', helper.exited).catch((e) => {
    throw new Error(`${e.message}; the helper shows: ${JSON.stringify(helper.screen().slice(-500))}`);
  });
  assert.notEqual(h.code, EXIT.ok);
  assert.equal(carriesEvil(helper.output()), false, `the helper's terminal got raw sequences: ${JSON.stringify(helper.output().slice(-300))}`);
  assert.match(helper.output(), /FAKE BANNER/, 'the text is still shown, harmless');
});

/** The attacker dials a waiting helper as the friend (it committed: it opened the connection). */
async function acceptHandshakeAsDialler(socket: net.Socket) {
  socket.on('error', () => {});
  const h = handshakeOn({ stream: socket, remote: 'helper' }, true, identity('friend'), TIMEOUTS);
  return { verifying: await within('the code', h.ready) };
}

/** An unencrypted SSH binary packet (RFC 4253 section 6) holding SSH_MSG_DISCONNECT (RFC 4253
 * section 11.1): byte 1, uint32 reason, string description, string language. */
function disconnectPacket(reason: number, description: string): Buffer {
  const text = Buffer.from(description, 'utf8');
  const payload = Buffer.alloc(1 + 4 + 4 + text.length + 4);
  payload[0] = 1;
  payload.writeUInt32BE(reason, 1);
  payload.writeUInt32BE(text.length, 5);
  text.copy(payload, 9);
  payload.writeUInt32BE(0, 9 + text.length);
  let padding = 8 - ((4 + 1 + payload.length) % 8);
  if (padding < 4) padding += 8;
  const packet = Buffer.alloc(4 + 1 + payload.length + padding);
  packet.writeUInt32BE(1 + payload.length + padding, 0);
  packet[4] = padding;
  payload.copy(packet, 5);
  return packet;
}

// --- Finding 2: a crash never skips the kill ----------------------------------------------------

test('finding 2: a shell asked for on the control channel is refused; the friend goes on and its hotkey still kills everything', async (t) => {
  const { friend, client } = await verifiedAttacker(t);
  await shellOnTheControlChannel(client);
  await until('the refusal', () => refused(friend, 'shell'));
  const { shell, seen } = await openShell(client);
  const started = await friend.waitEvent('session-started');
  shell.write('echo alive-$((6*7))\r');
  await until('the shell to answer', () => seen().includes('alive-42'));
  await endWithHotkey(friend, Number(started.pid));
});

test('finding 2: the same after the link came back, with a nohup\'ed process of the helper\'s: it dies with the session', async (t) => {
  const { friend, port, key, peer, client, stream } = await verifiedAttacker(t);
  const { shell, seen } = await openShell(client);
  const started = await friend.waitEvent('session-started');
  const shellPid = Number(started.pid);
  shell.write('nohup sleep 600 >/dev/null 2>&1 & echo started-$((2+2))\r');
  await until('the nohup\'ed job', () => seen().includes('started-4') && sessionProcesses(shellPid).length >= 2);
  stream.destroy(); // the link drops without a goodbye: the friend waits for the helper to come back
  await friend.waitEvent('helper-lost');
  const link = await dial({ host: '127.0.0.1', port }, 5000);
  link.stream.write(resumeLine(resumeToken(peer.publicKey, key.publicBlob)));
  const again = await sshClient(link.stream, { privateKey: key.privateKey, hostKey: peer.publicKey });
  t.after(() => again.end());
  await shellOnTheControlChannel(again);
  await until('the refusal', () => refused(friend, 'shell'));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(friend.events().some((e) => e.event === 'session-ended'), false, 'the session goes on');
  await endWithHotkey(friend, shellPid);
});
