// The meeting point's one-time word (src/net/meeting-word.ts) and the friend's step 3 asking for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utils } from 'ssh2';
import { checkDialAddress, formatWord, freshWord, keyLine, normalizeWord, parseMeetingAddress, wordSecrets, WORD_LENGTH } from '../src/net/meeting-word';
import { initialState, step, stepAll, type WizardEvent, type WizardState } from '../src/screens/wizard';
import { keyToEvent } from '../src/screens/keys';
import { lineToEvent } from '../src/screens/plain';
import { screenFor } from '../src/screens/view';

test('a word is eight symbols of the code\'s alphabet, read in any case, with spaces or dashes, I/L/O for 1/1/0', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const w = freshWord();
    assert.match(w, /^[0-9A-HJKMNP-TV-Z]{8}$/);
    seen.add(w);
    assert.equal(normalizeWord(formatWord(w).toLowerCase()), w);
    assert.equal(normalizeWord(`${w.slice(0, 4)} ${w.slice(4)}`), w);
  }
  assert.equal(seen.size, 200, 'no word twice in 200');
  assert.equal(normalizeWord('oIl0-abcd'), '0110ABCD');
  for (const bad of ['', 'ABCD-EFG', 'ABCD-EFGHJ', 'ABCD-EFGU', 'ABCD EF!H']) assert.equal(normalizeWord(bad), null, bad);
  assert.equal(WORD_LENGTH, 8);
});

test('both sides make the same key and port from a word; another word makes others; the key line allows forwarding to that port only', () => {
  const a = wordSecrets('ABCD1234');
  const b = wordSecrets('ABCD1234');
  const c = wordSecrets('ABCD1235');
  assert.deepEqual([a.port, a.publicKey], [b.port, b.publicKey]);
  assert.notEqual(a.publicKey, c.publicKey);
  assert.ok(a.port >= 20000 && a.port < 60000);
  const parsed = utils.parseKey(a.privateKey);
  assert.ok(!(parsed instanceof Error) && !Array.isArray(parsed));
  assert.equal(`ssh-ed25519 ${parsed.getPublicSSH().toString('base64')}`, a.publicKey);
  const line = keyLine(a, new Date(Date.UTC(2026, 11, 1, 15, 4, 59)), 'abc123');
  assert.equal(line, `restrict,port-forwarding,permitopen="127.0.0.1:${a.port}",permitlisten="127.0.0.1:1",command="/bin/false",expiry-time="202612011504Z" ` +
    `${a.publicKey} remote-help-meeting:${Date.UTC(2026, 11, 1, 15, 4, 59) / 1000 | 0}:abc123`);
});

test('a meeting point is USER@HOST[:PORT], port 22 unless given; the friend may type either kind of address', () => {
  assert.deepEqual(parseMeetingAddress('alex@server.example.org'), { user: 'alex', host: 'server.example.org', port: 22 });
  assert.deepEqual(parseMeetingAddress('alex@[2001:db8::1]:2022'), { user: 'alex', host: '2001:db8::1', port: 2022 });
  assert.throws(() => parseMeetingAddress('@server'), /the part before @ must be a user name/);
  assert.throws(() => parseMeetingAddress('a b@server'), /user name/);
  assert.doesNotThrow(() => checkDialAddress('192.0.2.10:2222', 2222));
  assert.doesNotThrow(() => checkDialAddress('alex@192.0.2.10', 2222));
  assert.throws(() => checkDialAddress('alex@', 2222));
});

const run = stepAll;
const ctx = { addresses: [], listeningPort: null };

test('the friend\'s step 3: a meeting point asks for the word; a bad word stays, Esc goes back to the address, a good one connects', () => {
  let { s, effects } = run({ ...initialState({ role: 'friend' }), step: 3 }, [{ type: 'setAddress', text: 'alex@192.0.2.10', problem: null }]);
  assert.equal(s.step, 3);
  assert.equal(s.wordNeeded, true);
  assert.deepEqual(effects, []);
  const screen = screenFor(s, ctx);
  assert.equal(screen.input, 'One-time word: ');
  assert.match(screen.lines.join('\n'), /Your helper meets you through the server alex@192\.0\.2\.10\./);
  // Typed in the full screen and in line mode: the same events.
  const bad = keyToEvent(s, { typed: 'ABC', selected: 0 }, { name: 'enter' }).event!;
  assert.deepEqual(lineToEvent(s, 'ABC'), bad);
  ({ s } = run(s, [bad]));
  assert.equal(s.step, 3);
  assert.match(s.problem!.message, /is not the word: it has 8 letters and digits/);
  ({ s } = run(s, [{ type: 'back' }]));
  assert.equal(s.wordNeeded, false);
  assert.equal(screenFor(s, ctx).input, 'Address: ');
  ({ s, effects } = run(s, [{ type: 'setAddress', text: 'alex@192.0.2.10', problem: null }, lineToEvent({ ...s, wordNeeded: true }, 'abcd efgh')!]));
  assert.equal(s.step, 4);
  assert.equal(s.word, 'ABCDEFGH');
  assert.deepEqual(effects, [{ type: 'connect' }]);
});

test('the helper\'s step 3: s asks for a server; a bad one stays with the problem; one typed turns the meeting point on, empty turns it off', () => {
  // A helper who has said the name friends see (else step 3 asks for it first).
  let { s } = run({ ...initialState({ role: 'helper', helperName: 'Alex' }), step: 3 }, [lineToEvent({ ...initialState({ role: 'helper', helperName: 'Alex' }), step: 3 }, 's')!]);
  assert.equal(s.viaEditing, true);
  assert.equal(screenFor(s, ctx).input, 'Server: ');
  assert.deepEqual(keyToEvent({ ...initialState({ role: 'helper', helperName: 'Alex' }), step: 3 }, { typed: '', selected: 0 }, { name: 's', ch: 's' }).event, { type: 'editVia' });
  ({ s } = run(s, [lineToEvent(s, 'alex@bad host')!]));
  assert.match(s.problem!.message, /is not a server remote-help can meet at/);
  assert.equal(s.viaEditing, true);
  const typed = keyToEvent(s, { typed: 'alex@vps.example.org:2022', selected: 0 }, { name: 'enter' }).event!;
  ({ s } = run(s, [typed]));
  assert.equal(s.via, 'alex@vps.example.org:2022');
  assert.equal(s.viaEditing, false);
  assert.match(screenFor(s, ctx).lines.join('\n'), /Your friend will connect through the server alex@vps\.example\.org:2022\.[\s\S]*Meet at a server: alex@vps\.example\.org:2022 \(s: change or turn off\)\./);
  ({ s } = run(s, [{ type: 'toggleReverse' }]));
  assert.equal(s.reverse, false, 'no reverse with a meeting point: both connect out');
  let effects;
  ({ s, effects } = run(s, [{ type: 'continue' }]));
  assert.equal(s.step, 4);
  assert.deepEqual(effects, [{ type: 'connect' }]);
  ({ s } = run({ ...s, step: 3 }, [{ type: 'editVia' }, lineToEvent({ ...s, step: 3, viaEditing: true }, '')!]));
  assert.equal(s.via, '');
  assert.match(screenFor(s, ctx).lines.join('\n'), /Meet at a server: off/);
  // The friend has no meeting point to set: s means nothing on their step 3.
  assert.equal(step({ ...initialState({ role: 'friend' }), step: 3 }, { type: 'editVia' }).state.viaEditing, false);
});
