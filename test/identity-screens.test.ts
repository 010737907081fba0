// What the people see of the helper's identity, as pure rules: the helper's step 3 asks once for
// the name friends see; the friend's step 5 says whether this helper helped before; step 1 warns
// about callers nobody asked for; the friend's memory of helpers as pure functions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counted, recognise, type KnownHelper } from '../src/app/known-helpers';
import { keyToEvent } from '../src/screens/keys';
import { lineToEvent } from '../src/screens/plain';
import { dayText, seenLines } from '../src/screens/seen';
import { screenFor } from '../src/screens/view';
import { initialState, stepAll, type WizardState } from '../src/screens/wizard';

const ctx = { addresses: ['192.0.2.10'], listeningPort: 2222 };
const text = (s: WizardState, c: object = ctx) => screenFor(s, { ...ctx, ...c }).lines.join('\n');
const NOV3 = new Date(2026, 10, 3, 15, 0).getTime();
const NOW = new Date(2026, 10, 20, 9, 0).getTime();
const id = (c: string) => `SHA256:${c.repeat(43)}`;

test('a helper without a name is asked for one on step 3, once; it is kept and shown after', () => {
  const { s, effects } = stepAll(initialState(), [{ type: 'continue' }, { type: 'chooseRole', role: 'helper' }]);
  assert.equal(s.step, 3);
  assert.equal(screenFor(s, ctx).title, 'Your name for your friends');
  assert.equal(screenFor(s, ctx).input, 'Name: ');
  assert.deepEqual(effects, []);
  assert.deepEqual(lineToEvent(s, ''), { type: 'setName', text: '', problem: 'The name is empty.' });
  const bad = stepAll(s, [lineToEvent(s, '')!]).s;
  assert.match(text(bad), /Problem: The name is empty\./);
  const named = stepAll(s, [lineToEvent(s, '  Alex, your nephew ')!]);
  assert.deepEqual(named.effects, [{ type: 'saveName', name: 'Alex, your nephew' }]);
  assert.equal(named.s.step, 3);
  assert.match(text(named.s), /Your friend sees you as: Alex, your nephew \(n: change\)\./);
  assert.match(text(named.s), /Read this to your friend/);
  // n changes it; Esc keeps the old one.
  const editing = stepAll(named.s, [lineToEvent(named.s, 'n')!]).s;
  assert.match(text(editing), /Now: Alex, your nephew/);
  assert.equal(stepAll(editing, [{ type: 'back' }]).s.helperName, 'Alex, your nephew');
  assert.equal(keyToEvent(named.s, { typed: '', selected: 0 }, { name: 'n', ch: 'n' }).event?.type, 'editName');
  // A helper who has a name goes straight on; back from the first question is step 2.
  assert.equal(screenFor({ ...initialState({ role: 'helper', helperName: 'Alex' }), step: 3 }, ctx).title, 'What to tell your friend');
  assert.equal(stepAll(s, [{ type: 'back' }]).s.step, 2);
});

test('a name with a control character is refused in the full screen too', () => {
  const s = { ...initialState({ role: 'helper' }), step: 3 as const };
  const r = keyToEvent(s, { typed: 'Al\x1bex', selected: 0 }, { name: 'enter' });
  assert.deepEqual(r.event, { type: 'setName', text: 'Al\x1bex', problem: 'The name contains a control character.' });
});

test('step 1 says to go on only with someone the friend asked for help', () => {
  assert.match(text(initialState()), /Go on only with someone you asked for help yourself: real companies never call you to fix your computer\./);
});

test('the friend\'s step 5 says who is helping: known (day and count), new, an impostor, or no identity', () => {
  const shown = (seen: WizardState['seen']) => stepAll({ ...initialState({ role: 'friend' }), step: 4 },
    [{ type: 'codeShown', code: 'Q7CED', peer: { user: 'ana', host: 'laptop' }, seen: seen ?? undefined }]).s;
  assert.match(text(shown({ kind: 'known', name: 'Alex', before: 'Alex', last: NOV3, sessions: 4 }), { now: NOW }),
    /This is Alex, who helped you on 3 November \(4 times\)\./);
  assert.match(text(shown({ kind: 'new', name: 'Alex' })), /This says it is Alex\. You have never been helped by this person before\./);
  const warned = text(shown({ kind: 'impostor', name: 'Alex', before: 'Alex, your nephew', last: NOV3 }), { now: NOW });
  assert.match(warned, /WARNING: This says it is Alex, but it is not the Alex, your nephew who helped you on 3 November\./);
  assert.match(warned, /If you did not ask this person for help yourself, press n\./);
  assert.match(text(shown({ kind: 'anonymous' })), /Connected to ana on laptop, who does not say who they are/);
  assert.match(text(shown(null)), /Connected to ana on laptop\./);
  assert.match(text(shown({ kind: 'new', name: 'Alex' }), { helpersNote: 'The disk is read-only here, so this helper will not be remembered.' }),
    /read-only here, so this helper will not be remembered/);
});

test('days read as people say them, with the year only when it is not this one; one session is "once"', () => {
  assert.equal(dayText(NOV3, NOW), '3 November');
  assert.equal(dayText(new Date(2025, 0, 31).getTime(), NOW), '31 January 2025');
  assert.match(seenLines({ kind: 'known', name: 'Alex', before: 'Al', last: NOV3, sessions: 1 }, '', NOW)[0],
    /^This is Alex, who helped you on 3 November \(once\)\. They called themselves "Al" then\.$/);
});

test('the friend\'s memory: an identity is known, a known name with another identity is flagged, anything else is new', () => {
  let list: KnownHelper[] = [];
  assert.deepEqual(recognise(list, id('a'), 'Alex'), { kind: 'new', name: 'Alex' });
  list = counted(list, id('a'), 'Alex, your nephew', NOV3);
  list = counted(list, id('a'), 'Alex, your nephew', NOW);
  assert.deepEqual(list, [{ id: id('a'), name: 'Alex, your nephew', first: NOV3, last: NOW, sessions: 2 }]);
  assert.deepEqual(recognise(list, id('a'), 'Alex, your nephew'), { kind: 'known', name: 'Alex, your nephew', before: 'Alex, your nephew', last: NOW, sessions: 2 });
  for (const name of ['Alex', 'alex', ' ALEX.', 'Alex (from the bank)', 'Alex, your nephew'])
    assert.equal(recognise(list, id('b'), name).kind, 'impostor', name);
  assert.deepEqual(recognise(list, id('b'), 'Sam'), { kind: 'new', name: 'Sam' });
  assert.equal(recognise(list, id('b'), 'Alexander').kind, 'new');
});
