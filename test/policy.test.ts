// The administrator's policy (src/policy.ts) read from its file, and honoured by real processes;
// and the system log (src/journal.ts) read by a syslog daemon of the test's own.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, confirmCode, listeningPort, NODE, release, ROOT, startSide, tempDir, until, type Side } from './harness';
import { loadPolicy, NO_POLICY } from '../src/policy';
import { HelpError } from '../src/errors';

const root = process.getuid?.() === 0;
const HOTKEY = '\x1b\x03';
const CTRL_ALT_K = '\x1b\x0b';
const MOUNTS = path.join(ROOT, 'test', 'fixtures', 'private-mounts.sh');
const flat = (s: Side) => s.output().replace(/\s+/g, ' ');
/** A helper identity's fingerprint as ssh-keygen -l shows it (43 base64 characters). */
const ALEX = `SHA256:${'Alex0+/'.repeat(6)}a`;

function policyFile(text: string): string {
  const dir = tempDir('remote-help-policy-');
  const file = path.join(dir, 'policy.conf');
  fs.writeFileSync(file, text, { mode: 0o644 });
  return file;
}

function refusal(file: string): string {
  try {
    loadPolicy(file);
  } catch (err) {
    assert.ok(err instanceof HelpError);
    assert.equal(err.exit, 'policy');
    return err.message;
  }
  assert.fail(`${file} was expected to be refused`);
}

test('the policy file: every key read, no file is no policy, and a bad file is refused naming the file, the line and what is wrong', () => {
  assert.deepEqual(loadPolicy('/nonexistent/policy.conf'), NO_POLICY);
  const file = policyFile([
    '# the help desk only, watching', 'help_this_machine = true', 'help_others = false', 'helper_may_type = "ask"', 'desktop = false',
    'file_transfer = false', 'open_firewall = false', 'map_port = false', 'meeting_point = false', 'max_session_minutes = 90', 'max_wait_minutes = 0.5',
    'transcript = "required"', 'connect_to = ["HelpDesk.example.org", "192.0.2.10"]', `allowed_helpers = ["${ALEX}"]`, '',
  ].join('\n'));
  assert.deepEqual(loadPolicy(file), {
    file, helpThisMachine: true, helpOthers: false, helperMayType: 'ask', desktop: false, fileTransfer: false, openFirewall: false, mapPort: false,
    meetingPoint: false, maxSessionMs: 90 * 60_000, maxWaitMs: 30_000, transcript: 'required', connectTo: ['helpdesk.example.org', '192.0.2.10'],
    allowedHelpers: [ALEX],
  });
  assert.match(refusal(policyFile('allowed_helpers = ["Alex"]\n')), /line 1: allowed_helpers must be a list of helper identities/);
  assert.match(refusal(policyFile(`allowed_helpers = ["${ALEX.slice(0, -1)}"]\n`)), /allowed_helpers must be/);
  const unknown = policyFile('desktop = true\n\nhelpers_may_type = "no"\n');
  assert.match(refusal(unknown), new RegExp(`${unknown}, line 3: "helpers_may_type" is not a setting remote-help knows`));
  const badValue = policyFile('helper_may_type = "sometimes"\n');
  assert.match(refusal(badValue), new RegExp(`${badValue}, line 1: helper_may_type must be "yes", "no" or "ask"`));
  assert.match(refusal(policyFile('max_session_minutes = -1\n')), /line 1: max_session_minutes must be a number of minutes/);
  assert.match(refusal(policyFile('connect_to = "helpdesk"\n')), /line 1: connect_to must be a list of addresses or names/);
  assert.match(refusal(policyFile('desktop = true\ndesktop = false\n')), /line 2/);
  assert.match(refusal(policyFile('desktop = \n')), /line 1/);
  const writable = policyFile('desktop = false\n');
  fs.chmodSync(writable, 0o666);
  assert.match(refusal(writable), /can be changed by users other than root \(mode 666\)/);
  if (root) {
    const owned = policyFile('desktop = false\n');
    fs.chownSync(owned, 65534, 65534);
    assert.match(refusal(owned), /belongs to user 65534, not root/);
  }
});

function side(t: TestContext, name: string, args: string[], policy: string | null, env: Record<string, string> = {}): Side {
  const s = startSide(name, args, { env: { REMOTE_HELP_POLICY: policy ?? '/nonexistent/policy.conf', ...env } });
  t.after(() => release(s));
  return s;
}

async function refusedWith(s: Side, says: RegExp) {
  assert.equal((await s.exited).code, 10, flat(s).slice(-400));
  assert.match(flat(s), says);
  assert.ok(!s.events().some((e) => e.event === 'connecting' || e.event === 'listening'), 'nothing connected or listened');
}

test('what the policy forbids is refused before anything connects, with the reason and exit status 10', { skip: !root && 'needs root (policy files must belong to root)', timeout: 120_000 }, async (t) => {
  const cases: [string, string, string[], RegExp][] = [
    ['no help for this machine', 'help_this_machine = false', ['friend', '127.0.0.1:9'], /This computer's administrator does not allow it to be helped with remote-help/],
    ['no helping others', 'help_others = false', ['helper', '--port', '0'], /does not allow helping others from it/],
    ['an address not on the list', 'connect_to = ["helpdesk.example.org"]', ['friend', '127.0.0.1:9'], /may only connect to the helpers its administrator chose: helpdesk\.example\.org/],
    ['waiting for a helper with a list', 'connect_to = ["helpdesk.example.org"]', ['friend', '--reverse', '--port', '0'], /so it does not wait for one/],
    ['the firewall option', 'open_firewall = false', ['helper', '--port', '0', '--open-firewall'], /--open-firewall is turned off by this computer's administrator/],
    ['the router option', 'map_port = false', ['helper', '--port', '0', '--map-port'], /--map-port is turned off by this computer's administrator/],
    ['the meeting point', 'meeting_point = false', ['helper', '--via', 'alex@192.0.2.1'], /--via is turned off by this computer's administrator/],
    ['a friend\'s meeting point', 'meeting_point = false', ['friend', 'alex@192.0.2.1', '--word', 'ABCD-EFGH'], /Meeting points are turned off by this computer's administrator/],
    ['a broken policy', 'desktop = maybe', ['helper', '--port', '0'], /remote-help policy cannot be used: .*policy\.conf, line 1/],
  ];
  for (const [what, text, args, says] of cases) {
    await t.test(what, async (st) => refusedWith(side(st, 'side', args, policyFile(`${text}\n`)), says));
  }
  await t.test('the longest wait', async (st) => {
    const s = side(st, 'helper', ['helper', '--port', '0', '--wait', '30'], policyFile('max_wait_minutes = 0.05\n'));
    await s.waitEvent('listening');
    assert.equal((await s.exited).code, 3);
    assert.match(flat(s), /Nobody connected within 3 seconds/);
  });
  await t.test('in the wizard: choosing to be helped', async (st) => {
    const s = side(st, 'friend', [], policyFile('help_this_machine = false\n'));
    await s.waitFor('Welcome to remote-help');
    s.write('\r');
    await s.waitFor('Who are you?');
    s.write('1\r');
    await refusedWith(s, /does not allow it to be helped/);
  });
  await t.test('in the wizard: an address not on the list stays on step 3', async (st) => {
    const s = side(st, 'friend', ['friend'], policyFile('connect_to = ["helpdesk.example.org"]\n'));
    await s.waitFor('Type the address your helper tells you');
    s.write('192.0.2.10\r');
    await s.waitFor(/Problem: This computer may only connect to the helpers its administrator chose/);
    s.write('q\r');
    assert.equal((await s.exited).code, 8);
  });
  await t.test('a required transcript where none can be kept on disk', async (st) => {
    const state = tempDir('remote-help-readonly-');
    const s = startSide('friend', ['friend', '127.0.0.1:9'], { executable: MOUNTS, env: {
      REMOTE_HELP_POLICY: policyFile('transcript = "required"\n'), REMOTE_HELP_STATE_DIR: state, REMOTE_HELP_TEST_RO: state, REMOTE_HELP_NODE_BIN: `${NODE} ${BIN}` } });
    st.after(() => release(s));
    await refusedWith(s, /requires a record of every session, and it cannot be written in .* \(EROFS\), so no session starts/);
  });
});

test('helpers only watch ("no"): step 1 says so, typing is not sent, Ctrl-Alt-K cannot give it; "ask": the friend gives it', { skip: !root && 'needs root', timeout: 120_000 }, async (t) => {
  const helper = side(t, 'helper', ['helper', '--port', '0'], null);
  const port = await listeningPort(helper);
  const friend = side(t, 'friend', [], policyFile('helper_may_type = "no"\n'));
  const shows = (s: Side, text: string) => until(`${s.name} to show ${text}`, () => flat(s).includes(text));
  await shows(friend, 'On this computer helpers can only watch: typing is turned off by this computer\'s administrator.');
  friend.write('\r');
  friend.write('1\r');
  await friend.waitFor('Type the address');
  friend.write(`127.0.0.1:${port}\r`);
  await shows(friend, 'Your helper will only watch: typing is turned off');
  friend.write('v\r'); // changes nothing
  await confirmCode(friend, helper);
  helper.write('echo typed-$((6*7))\r');
  await helper.waitFor('Not sent: your friend has the keyboard.');
  friend.write(CTRL_ALT_K);
  await shows(friend, 'Helpers can only watch on this computer');
  helper.write('echo again-$((6*7))\r');
  await new Promise((r) => setTimeout(r, 500));
  assert.doesNotMatch(friend.output(), /typed-42|again-42/);
  friend.write(HOTKEY);
  await friend.exited;

  const h2 = side(t, 'helper', ['helper', '--port', '0'], null);
  const p2 = await listeningPort(h2);
  const f2 = side(t, 'friend', ['friend', `127.0.0.1:${p2}`], policyFile('helper_may_type = "ask"\n'));
  await confirmCode(f2, h2);
  h2.write('echo before-$((6*7))\r');
  await h2.waitFor('Not sent: your friend has the keyboard.');
  f2.write(CTRL_ALT_K);
  await f2.waitEvent('keyboard');
  h2.write('echo after-$((6*7))\r');
  await f2.waitFor('after-42');
  f2.write(HOTKEY);
  await f2.exited;
});

test('the longest session: the friend\'s side ends it, says why, and the helper hears it; the system log records the session', { skip: (!root && 'needs root') || (spawnSync('sh', ['-c', 'command -v busybox && command -v logger']).status !== 0 && 'busybox and logger are installed by .ci/run'), timeout: 120_000 }, async (t) => {
  const log = path.join(tempDir('remote-help-syslog-'), 'messages');
  const helper = side(t, 'helper', ['helper', '--port', '0'], null);
  const port = await listeningPort(helper);
  const friend = startSide('friend', ['friend', `127.0.0.1:${port}`], { executable: MOUNTS, env: {
    REMOTE_HELP_POLICY: policyFile('max_session_minutes = 0.1\n'), REMOTE_HELP_TEST_SYSLOG: log, REMOTE_HELP_NODE_BIN: `${NODE} ${BIN}` } });
  t.after(() => release(friend));
  await confirmCode(friend, helper);
  const started = Date.now();
  assert.equal((await friend.exited).code, 10);
  assert.ok(Date.now() - started < 30_000);
  assert.match(flat(friend), /The session reached the longest time this computer's administrator allows, so remote-help ended it\./);
  assert.equal((await helper.exited).code, 10);
  assert.match(flat(helper), /The session reached the longest time the friend's computer allows/);
  const lines = await until('the system log', () => {
    const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
    return /session ended \(time-limit\)/.test(text) ? text : null;
  }, 10_000);
  const pid = friend.pid;
  assert.match(lines, new RegExp(`remote-help\\[${pid}\\]: session started: \\S+ is helping on this computer \\(shell PID \\d+; helper identity SHA256:[A-Za-z0-9+/]{43}, "[^"]+"\\)`));
  assert.match(lines, new RegExp(`remote-help\\[${pid}\\]: transcript: \\S+\\.cast`));
  assert.match(lines, new RegExp(`remote-help\\[${pid}\\]: session ended \\(time-limit\\): The session reached the longest time`));
});

test('allowed_helpers: a helper on the list helps; one not on it is turned away, both told why', { skip: !root && 'needs root', timeout: 120_000 }, async (t) => {
  const desk = tempDir('remote-help-desk-');
  const helper = side(t, 'helper', ['helper', '--port', '0', '--name', 'The help desk'], null, { REMOTE_HELP_CONFIG_DIR: desk });
  const id = String((await helper.waitEvent('identity')).fingerprint);
  const policy = policyFile(`allowed_helpers = ["${id}"]\n`);
  const friend = side(t, 'friend', ['friend', `127.0.0.1:${await listeningPort(helper)}`], policy);
  await confirmCode(friend, helper);
  friend.write(HOTKEY);
  await friend.exited;

  const stranger = side(t, 'helper', ['helper', '--port', '0', '--name', 'The help desk'], null);
  const f2 = side(t, 'friend', ['friend', `127.0.0.1:${await listeningPort(stranger)}`], policy);
  assert.equal((await f2.exited).code, 10);
  assert.match(flat(f2), /This computer takes help only from the helpers its administrator chose \(\S+policy\.conf\), and "The help desk" \(SHA256:\S+\) is not one of them\./);
  assert.ok(!f2.events().some((e) => e.event === 'code-shown'), 'no code was shown for a helper not on the list');
  assert.equal((await stranger.exited).code, 10);
  assert.match(flat(stranger), /The friend's computer takes help only from the helpers its administrator chose, and you are not one of them\./);
});
