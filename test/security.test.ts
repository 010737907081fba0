// The security review's findings (issue 11), each as the attack that worked: a real remote-help
// process in a real pty on loopback, the attacker in this process (test/attacker.ts): the
// project's own handshake, then ssh2 directly, or raw bytes.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { Client, ClientChannel } from 'ssh2';
import { EXIT } from '../src/errors';
import { CONTROL_SUBSYSTEM } from '../src/net/control';
import { FrameDecoder } from '../src/net/frames';
import { decodeMessage } from '../src/net/messages';
import { proveReturn, resumeLine, resumeToken } from '../src/net/returning';
import { dial } from '../src/net/tcp';
import { handshakeOn } from '../src/net/verify';
import { collect, dialHandshake, identity, outcome, sshClient, TIMEOUTS, verifiedLogin, within } from './attacker';
import { confirmCode, connectedPairWith, listeningPort, sessionProcesses, sideFor, startSide, tempDir, until, type Side } from './harness';
import { cgroup2Mount } from '../src/session/cgroup';
import { processAlive } from '../src/system';

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
  return { friend, port, ...(await verifiedLogin(t, friend, port)) };
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
  const control = await openControl(client);
  const { shell, seen } = await openShell(client);
  const secret = await resumeSecretIn(control);
  const started = await friend.waitEvent('session-started');
  const shellPid = Number(started.pid);
  shell.write('nohup sleep 600 >/dev/null 2>&1 & echo started-$((2+2))\r');
  await until('the nohup\'ed job', () => seen().includes('started-4') && sessionProcesses(shellPid).length >= 2);
  stream.destroy(); // the link drops without a goodbye: the friend waits for the helper to come back
  await friend.waitEvent('helper-lost');
  const link = await dial({ host: '127.0.0.1', port }, 5000);
  await proveReturn(link.stream, resumeToken(peer.publicKey, key.publicBlob), secret, new AbortController().signal);
  const again = await sshClient(link.stream, { privateKey: key.privateKey, hostKey: peer.publicKey });
  t.after(() => again.end());
  await shellOnTheControlChannel(again);
  await until('the refusal', () => refused(friend, 'shell'));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(friend.events().some((e) => e.event === 'session-ended'), false, 'the session goes on');
  await endWithHotkey(friend, shellPid);
});

/** Opens the control channel as the helper's program does (before the shell); what arrives on it. */
async function openControl(client: Client): Promise<() => string> {
  const control = await outcome<ClientChannel>('the control channel', (cb) => client.subsys(CONTROL_SUBSYSTEM, cb));
  assert.ifError(control.err);
  return collect(control.value!);
}

/** The resume secret the friend's program sends on the control channel once the shell is on. */
async function resumeSecretIn(lines: () => string): Promise<Buffer> {
  const m = await until('the resume secret', () => /"t":"resume","secret":"([0-9a-f]{64})"/.exec(lines()));
  return Buffer.from(m[1], 'hex');
}

// --- Finding 3: an eavesdropper cannot keep the helper from coming back ------------------------

/** A TCP proxy on loopback in front of `target` that records both directions of its first
 * connection and can cut every connection it carries (it keeps accepting new ones). */
async function recordingProxy(t: TestContext, target: number) {
  const live = new Set<net.Socket>();
  const first = { toTarget: [] as Buffer[], fromTarget: [] as Buffer[] };
  let n = 0;
  let refuseUntil = 0;
  const server = net.createServer((a) => {
    if (Date.now() < refuseUntil) return void a.destroy(); // the network is still down
    const b = net.connect(target, '127.0.0.1');
    const recording = n++ === 0;
    for (const s of [a, b]) {
      live.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        live.delete(s);
        a.destroy();
        b.destroy();
      });
    }
    a.on('data', (d: Buffer) => (recording && first.toTarget.push(d), b.write(d)));
    b.on('data', (d: Buffer) => (recording && first.fromTarget.push(d), a.write(d)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    server.close();
    for (const s of live) s.destroy();
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    first,
    /** Cuts every connection; for `ms` new ones are cut at once too. */
    cut: (ms = 0) => {
      refuseUntil = Date.now() + ms;
      [...live].forEach((s) => s.destroy());
    },
  };
}

/** The Ed25519 key in the first INFO message of a recorded byte stream. */
function keyInInfo(chunks: Buffer[]): Buffer {
  const d = new FrameDecoder();
  d.push(Buffer.concat(chunks));
  for (let r = d.next(); r && !('error' in r); r = d.next()) {
    const m = decodeMessage(r.frame);
    if ('message' in m && m.message.type === 'info') return m.message.info.publicKey;
  }
  throw new Error('no INFO in the recorded bytes');
}

test('finding 3: an eavesdropper who replays the resume line every few milliseconds cannot keep the friend from coming back', { timeout: 60_000 }, async (t) => {
  const helper = startSide('helper', ['helper', '--port', '0']);
  const port = await listeningPort(helper);
  const proxy = await recordingProxy(t, port);
  const friend = startSide('friend', ['friend', `127.0.0.1:${proxy.port}`]);
  const { shellPid } = await confirmCode(friend, helper);
  // What the eavesdropper on the first connection knows: both public keys, hence the session's name.
  const token = resumeToken(keyInInfo(proxy.first.toTarget), keyInInfo(proxy.first.fromTarget));
  // The network goes away for 3 s; the eavesdropper starts replaying at once, and the friend's
  // program comes back into that.
  proxy.cut(3000);
  const sockets = new Set<net.Socket>();
  let replayed = 0;
  t.after(() => sockets.forEach((s) => s.destroy()));
  let replaying = true;
  const replay = async () => {
    // Four connections every 5 ms, each saying the session's name and then nothing, for at most
    // 20 s: more than the waiting side tries at once, faster than SSH can start.
    for (const stop = Date.now() + 20_000; replaying && Date.now() < stop;) {
      for (let i = 0; i < 4; i++) {
        const s = net.connect(port, '127.0.0.1', () => s.write(resumeLine(token)));
        replayed++;
        sockets.add(s);
        s.on('error', () => {});
        s.on('data', () => {});
        s.on('close', () => sockets.delete(s));
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const attack = replay();
  await friend.waitEvent('helper-lost');
  // Both ends must take the link back (the friend's side sees the shell open a moment before the
  // helper's program has it), and then the shell must answer through it.
  await within('the helper to take the link back through the eavesdropper\'s replays', helper.waitEvent('relinked', 20_000), 21_000);
  await friend.waitEvent('helper-back');
  replaying = false;
  await attack;
  helper.write('echo back-$((7*6))\r');
  await until('the shell to answer the helper', () => friend.screen().includes('back-42'));
  await endWithHotkey(friend, shellPid);
  t.diagnostic(`${replayed} replayed connections while the friend came back`);
});

// --- Finding 7: lying acknowledgements never grow the friend's memory -------------------------

/** A process's resident memory in MB (/proc/PID/status). */
function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

test('finding 7: a helper that never reads its shell but acknowledges everything keeps the friend\'s memory bounded', { timeout: 60_000 }, async (t) => {
  const { friend, client } = await verifiedAttacker(t);
  const control = await outcome<ClientChannel>('the control channel', (cb) => client.subsys(CONTROL_SUBSYSTEM, cb));
  assert.ifError(control.err);
  const { shell } = await openShell(client);
  const started = await friend.waitEvent('session-started');
  const before = rssMB(friend.pid);
  shell.pause(); // reads nothing more: SSH's window closes, and the friend's side holds what it sends
  shell.write('yes $(printf "%0100d" 0)\r');
  let lie = 0;
  const acks = setInterval(() => control.value!.write(JSON.stringify({ t: 'ack', bytes: (lie += 50_000_000) }) + '\n'), 10);
  t.after(() => clearInterval(acks));
  const samples: number[] = [];
  for (let i = 0; i < 16; i++) {
    await new Promise((r) => setTimeout(r, 500));
    samples.push(rssMB(friend.pid));
  }
  clearInterval(acks);
  const growth = Math.max(...samples) - before;
  t.diagnostic(`friend RSS ${before.toFixed(1)} MB before; samples ${samples.map((s) => s.toFixed(0)).join(' ')} MB`);
  assert.ok(growth < 80, `the friend grew by ${growth.toFixed(1)} MB in 8 s of lies`);
  await endWithHotkey(friend, Number(started.pid));
});

// --- Finding 8: redialling backs off --------------------------------------------------------------

test('finding 8: a friend whose helper was replaced by a fresh program on the same port redials a few times, not thousands', { timeout: 60_000 }, async (t) => {
  const helper = sideFor(t, 'helper', ['helper', '--port', '0']);
  const port = await listeningPort(helper);
  const friend = sideFor(t, 'friend', ['friend', `127.0.0.1:${port}`]);
  await confirmCode(friend, helper);
  helper.kill('SIGKILL');
  await helper.exited;
  await friend.waitEvent('helper-lost');
  const fresh = sideFor(t, 'fresh helper', ['helper', '--port', String(port)]);
  await fresh.waitEvent('listening');
  const redials = () => friend.events().filter((e) => e.event === 'reconnecting').length;
  const from = redials();
  await new Promise((r) => setTimeout(r, 5000));
  const tries = redials() - from;
  t.diagnostic(`${tries} redials in 5 s against a program that is not the helper; events log ${fs.statSync(friend.eventsFile).size} bytes`);
  assert.ok(tries >= 1 && tries <= 6, `${tries} redials in 5 s`);
  assert.equal(fresh.events().some((e) => e.event === 'code-shown'), false, 'the fresh helper never gets as far as a code');
});

// --- Finding 6: what escapes the shell's session still dies, or is named ---------------------------


test('finding 6: `setsid` and `setsid -f` jobs of the helper die with the session; what got out of its cgroup too, and a new cron file, are named to the friend', { timeout: 60_000 }, async (t) => {
  const { friend, helper } = await connectedPairWith({ t });
  const dir = tempDir();
  const cron = `/etc/cron.d/remote-help-test-${process.pid}`;
  const root = process.getuid?.() === 0;
  const mount = cgroup2Mount();
  t.after(() => fs.rmSync(cron, { force: true }));
  helper.write(`setsid sleep 600 & echo $! > ${dir}/a; setsid -f sh -c 'echo $$ > ${dir}/b; exec sleep 601'; echo launched-$((3*3))\r`);
  await friend.waitFor('launched-9');
  const a = await until('the setsid job', () => Number(fs.readFileSync(`${dir}/a`, 'utf8')) || undefined).catch(() => 0);
  const b = await until('the setsid -f job', () => (fs.existsSync(`${dir}/b`) && Number(fs.readFileSync(`${dir}/b`, 'utf8'))) || undefined);
  // A root helper can leave the cgroup too, and schedule jobs: those are for the friend to know.
  let c = 0;
  if (root && mount) {
    helper.write(`setsid -f sh -c 'echo $$ > ${mount}/cgroup.procs; echo $$ > ${dir}/c; exec sleep 602'; touch ${cron}; echo out-$((4*4))\r`);
    await friend.waitFor('out-16');
    c = await until('the job out of the cgroup', () => (fs.existsSync(`${dir}/c`) && Number(fs.readFileSync(`${dir}/c`, 'utf8'))) || undefined);
    t.after(() => processAlive(c) && process.kill(c, 'SIGKILL'));
  }
  friend.write(HOTKEY);
  await within('the friend to exit', friend.exited);
  for (const pid of [a, b].filter(Boolean)) {
    await until(`${pid} to die`, () => !processAlive(pid), 3000).catch(() => {});
    if (processAlive(pid)) {
      // Only where no cgroup could be made: then it must at least be named.
      assert.ok(!root || !mount, `pid ${pid} got away although a cgroup could be made`);
      assert.match(friend.output(), new RegExp(`sleep \\(${pid}\\)`));
      process.kill(pid, 'SIGKILL');
    }
  }
  if (c) {
    const left = friend.events().find((e) => e.event === 'leftovers');
    assert.ok(left, 'the friend is told what is left');
    assert.match(String(left.text), new RegExp(`sleep \\(${c}\\)`));
    assert.match(String(left.text), new RegExp(cron.replace(/[.]/g, '\\.')));
    assert.match(friend.output().replace(/\s+/g, ' '), /still running: .*sleep/);
  }
});

// --- Finding 5: the friend's machine cannot attack the helper's terminal ----------------------

test('finding 5: what the friend\'s machine prints reaches the helper painted, never raw: no clipboard write, title or query, and the helper\'s status line stays', { timeout: 60_000 }, async (t) => {
  const { friend, helper, shellPid } = await connectedPairWith({ t });
  await until('the helper\'s status line', () => /helping .* Leave: Enter ~\./.test(helper.screen().split('\n').at(-1) ?? ''));
  // A compromised machine prints EVIL, two terminal queries, and a fake line at the bottom.
  const printed = `${EVIL}\x1bP$qm\x1b\\\x1b[c\x1b[999;1Hfake helper status`;
  const octal = Array.from(Buffer.from(printed), (b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
  friend.write(`printf '${octal}'; sleep 1; echo; echo printed-$((6*7))\r`);
  await helper.waitFor(/^printed-42\s*$/m, 15_000);
  await helper.waitFor('FAKE BANNER');
  const raw = helper.output();
  assert.ok(!raw.includes('\x1b]52;') && !raw.includes('\x1b]0;pwned'), 'no clipboard write or title on the helper\'s terminal');
  assert.ok(!raw.includes('\x1bP$q') && !raw.includes('\x1b[c'), 'no terminal query on the helper\'s terminal');
  const rows = helper.screen().split('\n');
  assert.match(rows.at(-1) ?? '', /helping .*Leave: Enter ~\./, 'the status line is still the helper\'s own');
  assert.doesNotMatch(rows.at(-1) ?? '', /fake helper status/);
  assert.doesNotMatch(raw, /\[remote-help\]/, 'nothing of ours is mixed into the shell\'s output');
  friend.write(HOTKEY);
  await within('the friend to exit', friend.exited);
  await until('the shell gone', () => sessionProcesses(shellPid).length === 0, 5000);
});

// --- Finding 9: the first stranger to finish a handshake does not take the waiting port -----------

test('finding 9: a stranger who reaches a code first does not keep the friend out: the helper is told, and the code the friend reads picks the friend', { timeout: 60_000 }, async (t) => {
  const helper = sideFor(t, 'helper', ['helper', '--port', '0']);
  const port = await listeningPort(helper);
  const mallory = await dialHandshake(port, 'friend');
  t.after(() => mallory.link.stream.destroy());
  await helper.waitFor('Connected to mallory on attacker');
  const friend = sideFor(t, 'friend', ['friend', `127.0.0.1:${port}`]);
  const shown = await friend.waitEvent('code-shown');
  const another = await helper.waitEvent('another-peer');
  assert.notEqual(shown.code, mallory.verifying.code);
  await helper.waitFor('Also connected: ');
  helper.write(`${String(shown.code).toLowerCase()}\r`); // what the friend reads aloud
  await helper.waitFor('Ask your friend to press y');
  friend.write('y\r');
  const started = await friend.waitEvent('session-started');
  await within('mallory to be turned away', mallory.verifying.finished.then(() => false, () => true));
  const confirmed = helper.events().find((e) => e.event === 'confirmed');
  assert.equal(confirmed?.remote, another.remote, 'the helper confirmed the friend, who connected second');
  // The helper's keys count once the shell has spoken (helper-session.ts): wait for its prompt.
  await until('the prompt on the helper\'s side', () => /To leave: press Enter, then type ~\.[^]*\S/.test(helper.output())).catch((e) => {
    throw new Error(`${e.message}: ${JSON.stringify(helper.output().slice(-600))}`);
  });
  helper.write('echo it-is-you-$((5*5))\r');
  await friend.waitFor('it-is-you-25');
  await endWithHotkey(friend, Number(started.pid));
});
