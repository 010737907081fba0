// The helper's identity with real processes on loopback: a first session with a new helper, the
// same helper recognised the next time (day and count), another helper using the same name, a
// replaced identity (--new-identity), a man in the middle who swaps the identity (caught by the
// code as before), and the files: owner-only, and refused when others could change them.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { confirmCode, listeningPort, release, startSide, tempDir, until, type Side } from './harness';
import { acceptHandshake, dialHandshake, within, type Attack } from './attacker';
import { identityFromSeed } from '../src/net/identity';
import { randomBytes } from 'node:crypto';
import { EXIT } from '../src/errors';
import { dayText } from '../src/screens/seen';

const HOTKEY = '\x1b\x03';
const friendDir = tempDir('remote-help-friend-');
const alexDir = tempDir('remote-help-alex-');
const flat = (s: Side) => s.output().replace(/\s+/g, ' ');
const says = (s: Side, re: RegExp, ms = 10_000) => until(`${s.name} to say ${re}`, () => re.test(flat(s)), ms);
const mode = (file: string) => fs.statSync(file).mode & 0o777;
const known = () => JSON.parse(fs.readFileSync(path.join(friendDir, 'helpers'), 'utf8')).helpers as { id: string; name: string; sessions: number }[];

function start(t: TestContext, name: string, args: string[], configDir: string): Side {
  const s = startSide(name, args, { env: { REMOTE_HELP_CONFIG_DIR: configDir } });
  t.after(() => release(s));
  return s;
}

/** A helper (its config folder `dir`) waiting, and the friend (always the same folder) dialling it. */
async function meet(t: TestContext, dir: string, helperArgs: string[]) {
  const helper = start(t, 'helper', ['helper', '--port', '0', ...helperArgs], dir);
  const port = await listeningPort(helper);
  const friend = start(t, 'friend', ['friend', `127.0.0.1:${port}`], friendDir);
  const shown = await friend.waitEvent('code-shown');
  return { helper, friend, shown };
}

/** The friend presses n at the code: nothing is shared, and nothing is remembered. */
async function refuse(friend: Side, helper: Side) {
  friend.write('n\r');
  assert.equal((await friend.exited).code, EXIT.cancelled);
  await helper.exited;
}

let alexId = '';

test('a first session with a new helper: the friend is told it is new; both files are owner-only; the identity is in the transcript and events', async (t) => {
  const { helper, friend, shown } = await meet(t, alexDir, ['--name', 'Alex, your nephew']);
  alexId = String((helper.events().find((e) => e.event === 'identity'))!.fingerprint);
  assert.match(alexId, /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.deepEqual(shown.seen, { kind: 'new', name: 'Alex, your nephew' });
  assert.deepEqual(shown.peer, { user: (shown.peer as { user: string }).user, host: (shown.peer as { host: string }).host, identity: alexId, name: 'Alex, your nephew' });
  await says(friend, /This says it is Alex, your nephew\. You have never been helped by this person before\./);
  await confirmCode(friend, helper);
  const started = await friend.waitEvent('session-started');
  assert.equal(started.identity, alexId);
  friend.write(HOTKEY);
  await Promise.all([friend.exited, helper.exited]);
  const cast = fs.readFileSync(String((await friend.waitEvent('transcript')).path), 'utf8').split('\n')[0];
  assert.ok(JSON.parse(cast).title.includes(`"Alex, your nephew" (identity ${alexId})`), cast);
  assert.equal(mode(path.join(alexDir, 'helper-identity')), 0o600);
  assert.equal(mode(path.join(friendDir, 'helpers')), 0o600);
  assert.deepEqual(known().map((h) => [h.id, h.name, h.sessions]), [[alexId, 'Alex, your nephew', 1]]);
});

test('a second session with the same helper: recognised, with the day and how many times', async (t) => {
  assert.ok(alexId, 'runs after the first session');
  const { helper, friend, shown } = await meet(t, alexDir, []); // the name was kept with the identity
  assert.equal((shown.seen as { kind: string }).kind, 'known');
  await says(friend, new RegExp(`This is Alex, your nephew, who helped you on ${dayText(Date.now(), Date.now())} \\(once\\)\\.`));
  assert.equal(String(helper.events().find((e) => e.event === 'identity')!.fingerprint), alexId);
  await confirmCode(friend, helper);
  friend.write(HOTKEY);
  await Promise.all([friend.exited, helper.exited]);
  assert.deepEqual(known().map((h) => [h.id, h.sessions]), [[alexId, 2]]);
});

test('a different helper using the same name: the friend is warned; pressing n remembers nothing', async (t) => {
  const { helper, friend, shown } = await meet(t, tempDir('remote-help-other-'), ['--name', 'Alex']);
  assert.equal((shown.seen as { kind: string }).kind, 'impostor');
  await says(friend, /WARNING: This says it is Alex, but it is not the Alex, your nephew who helped you on/);
  await says(friend, /If you did not ask this person for help yourself, press n\./);
  await refuse(friend, helper);
  assert.deepEqual(known().map((h) => h.id), [alexId]);
});

test('a replaced identity (--new-identity): friends no longer recognise it, and a known name is warned about', async (t) => {
  const copy = tempDir('remote-help-alex-again-');
  fs.copyFileSync(path.join(alexDir, 'helper-identity'), path.join(copy, 'helper-identity'));
  const { helper, friend, shown } = await meet(t, copy, ['--new-identity']);
  const replaced = String(helper.events().find((e) => e.event === 'identity' && !e.replaced)!.fingerprint);
  assert.notEqual(replaced, alexId);
  assert.equal(mode(path.join(copy, 'helper-identity')), 0o600);
  assert.deepEqual(shown.seen, { kind: 'impostor', name: 'Alex, your nephew', before: 'Alex, your nephew', last: (shown.seen as { last: number }).last });
  await says(friend, /WARNING: This says it is Alex, your nephew, but it is not the Alex, your nephew who helped you/);
  await refuse(friend, helper);
});

test('a man in the middle who shows the friend his own identity under the helper\'s name: warned, and the codes differ', async (t) => {
  const helper = start(t, 'helper', ['helper', '--port', '0'], alexDir);
  const helperPort = await listeningPort(helper);
  // He cannot sign as Alex, so he proves an identity of his own with Alex's name.
  const mallory = { key: identityFromSeed(randomBytes(32)), name: 'Alex, your nephew' };
  const legs: Attack[] = [];
  let toHelper: Promise<Attack> | null = null;
  const proxy = net.createServer((socket) => {
    void acceptHandshake(socket, 'helper', undefined, mallory).then((a) => legs.push(a), () => {});
    toHelper ??= dialHandshake(helperPort, 'friend');
  });
  t.after(() => {
    proxy.close();
    for (const a of legs) a.link.stream.destroy();
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const friend = start(t, 'friend', ['friend', `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`], friendDir);
  const friendCode = String((await friend.waitEvent('code-shown')).code);
  await says(friend, /WARNING: This says it is Alex, your nephew, but it is not the Alex, your nephew who helped you/);
  const helperLeg = await within('the proxy\'s leg to the helper', toHelper!);
  legs.push(helperLeg);
  assert.notEqual(friendCode, String((await helper.waitEvent('code-shown')).code), 'the friend and the helper see different codes');
  await helper.waitFor('Type the five symbols');
  helper.write(`${friendCode}\r`);
  await helper.waitFor('That code does NOT match');
  await refuse(friend, helper);
  assert.ok(!friend.events().some((e) => e.event === 'session-started'));
  assert.deepEqual(known().map((h) => [h.id, h.sessions]), [[alexId, 2]]);
});

test('an identity file others could read or change is refused with what to do; so is a friend\'s list others could change', async (t) => {
  const dir = tempDir('remote-help-open-');
  fs.copyFileSync(path.join(alexDir, 'helper-identity'), path.join(dir, 'helper-identity'));
  fs.chmodSync(path.join(dir, 'helper-identity'), 0o644);
  const open = start(t, 'helper', ['helper', '--port', '0'], dir);
  assert.equal((await open.exited).code, EXIT.usage);
  assert.match(flat(open), /Your helper identity \(\S+helper-identity\) is not used: other users of this computer can read or change it \(mode 644\)\. Make it yours alone \(chmod 600 \S+\), or make a new one with: remote-help helper --new-identity/);
  assert.ok(!open.events().some((e) => e.event === 'listening'), 'it never waited for anyone');

  const list = path.join(friendDir, 'helpers');
  const before = fs.readFileSync(list, 'utf8');
  fs.chmodSync(list, 0o666);
  const { helper, friend, shown } = await meet(t, alexDir, []);
  assert.equal((shown.seen as { kind: string }).kind, 'new', 'an untrusted list recognises nobody');
  await says(friend, /remote-help does not trust its list of helpers you know \(\S+helpers\): other users can change it \(mode 666\)\. Nobody is recognised until it is fixed/);
  await confirmCode(friend, helper);
  friend.write(HOTKEY);
  await Promise.all([friend.exited, helper.exited]);
  assert.equal(fs.readFileSync(list, 'utf8'), before, 'the untrusted list was left as it was');
});
