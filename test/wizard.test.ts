// The wizard's rules as a table of events and what they lead to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialState, step, stepAll, MAX_MISMATCHES, type WizardEvent, type WizardState } from '../src/screens/wizard';
import { lineToEvent, wrap } from '../src/screens/plain';
import { screenFor } from '../src/screens/view';

const run = stepAll;

const ctx = { addresses: ['192.0.2.10'], listeningPort: 2222 };

test('a friend walks from welcome to the code with Enter, 1 and an address', () => {
  const { s, effects } = run(initialState(), [
    { type: 'continue' },
    { type: 'chooseRole', role: 'friend' },
    { type: 'setAddress', text: '192.0.2.10', problem: null },
  ]);
  assert.equal(s.step, 4);
  assert.deepEqual(effects, [{ type: 'connect' }]);
});

test('a bad address stays on step 3 with the problem shown, and nothing connects', () => {
  const start = { ...initialState({ role: 'friend' }), step: 3 as const };
  const { s, effects } = run(start, [{ type: 'setAddress', text: 'x!', problem: 'not an address' }]);
  assert.equal(s.step, 3);
  assert.deepEqual(effects, []);
  assert.match(screenFor(s, ctx).lines.join('\n'), /Problem: not an address/);
});

test('Esc/back walks back through every screen before the session', () => {
  const s: WizardState = { ...initialState(), step: 5, role: 'friend' };
  assert.equal(step({ ...s, step: 4 }, { type: 'back' }).state.step, 3);
  assert.equal(step({ ...s, step: 3 }, { type: 'back' }).state.step, 2);
  assert.equal(step({ ...s, step: 2 }, { type: 'back' }).state.step, 1);
  const r = step(s, { type: 'back' }); // on the code screen, back means stop: the code is one-shot
  assert.ok(r.state.ended);
  assert.ok(r.effects.some((e) => e.type === 'abort'));
});

test('the helper side connects only after both the typed code matched and the friend confirmed', () => {
  const start: WizardState = { ...initialState({ role: 'helper' }), step: 5, code: 'Q7CED' };
  const a = run(start, [{ type: 'codeTyped', matches: true }]);
  assert.equal(a.s.step, 5);
  assert.deepEqual(a.effects, [{ type: 'confirm', which: 0 }]);
  const b = run(a.s, [{ type: 'peerConfirmed' }]);
  assert.equal(b.s.step, 6);
});

test('the friend proceeds only on their own y, never because the helper confirmed', () => {
  const start: WizardState = { ...initialState({ role: 'friend' }), step: 5, code: 'Q7CED' };
  const a = run(start, [{ type: 'peerConfirmed' }]);
  assert.equal(a.s.step, 5);
  assert.deepEqual(a.effects, []);
  const b = run(a.s, [{ type: 'pressY' }]);
  assert.equal(b.s.step, 6);
  assert.deepEqual(b.effects, [{ type: 'confirm', which: 0 }]);
});

test('two computers reached a code on the waiting side: both are named, and the code the friend reads picks one', () => {
  let s: WizardState = { ...initialState({ role: 'helper' }), step: 5, code: 'AAAAA', peer: { user: 'mallory', host: 'attacker' } };
  s = step(s, { type: 'anotherPeer', peer: { user: 'alice', host: 'home' }, code: 'BBBBB' }).state;
  assert.match(screenFor(s, ctx).lines.join('\n'), /Also connected: alice on home\.\nThe code your friend reads tells which one is theirs\./);
  const typed = lineToEvent(s, 'bbbbb');
  assert.deepEqual(typed, { type: 'codeTyped', matches: true, which: 1 });
  const r = step(s, typed!);
  assert.deepEqual(r.effects, [{ type: 'confirm', which: 1 }]);
  assert.deepEqual([r.state.code, r.state.peer, r.state.others], ['BBBBB', { user: 'alice', host: 'home' }, []]);
  assert.match(screenFor(r.state, ctx).lines.join('\n'), /Connected to alice on home/);
  assert.deepEqual(lineToEvent(s, 'ccccc'), { type: 'codeTyped', matches: false }, 'a code nobody has is a mismatch');
  const friend: WizardState = { ...initialState({ role: 'friend' }), step: 5, code: 'AAAAA', peer: { user: 'mallory', host: 'attacker' } };
  const f = step(friend, { type: 'anotherPeer', peer: { user: 'alice', host: 'laptop' }, code: 'BBBBB' }).state;
  assert.match(screenFor(f, ctx).lines.join('\n'), /Also connected: alice on laptop\.\nOnly press y if your helper says this code matches\./);
  assert.deepEqual(step(f, { type: 'pressY' }).effects, [{ type: 'confirm', which: 0 }], 'y confirms the code shown');
});

test(`after ${MAX_MISMATCHES} wrong codes the helper stops with the code exit status`, () => {
  const start: WizardState = { ...initialState({ role: 'helper' }), step: 5, code: 'Q7CED' };
  const wrong: WizardEvent = { type: 'codeTyped', matches: false };
  const two = run(start, [wrong, wrong]);
  assert.equal(two.s.ended, null);
  assert.match(screenFor(two.s, ctx).lines.join('\n'), /does NOT match/);
  const three = run(two.s, [wrong]);
  assert.equal(three.s.ended?.exit, 'code');
  assert.deepEqual(three.effects.map((e) => e.type), ['abort', 'exit']);
});

test('a typed line that is not a code is a problem on the screen, not a wrong try', () => {
  const start: WizardState = { ...initialState({ role: 'helper' }), step: 5, code: 'Q7CED' };
  const e = lineToEvent(start, 'q7c');
  assert.equal(e?.type, 'codeTyped');
  const { s } = run(start, [e!]);
  assert.equal(s.mismatches, 0);
  assert.ok(s.problem);
});

test('the plain mode forgives case, spaces and look-alike letters in the code', () => {
  const start: WizardState = { ...initialState({ role: 'helper' }), step: 5, code: '0Q1ED' };
  assert.deepEqual(lineToEvent(start, 'o q l e d'), { type: 'codeTyped', matches: true, which: 0 });
  assert.deepEqual(lineToEvent(start, 'OQIED'), { type: 'codeTyped', matches: true, which: 0 });
});

test('quit from every screen before the session ends with the cancelled status', () => {
  for (const stepNo of [1, 2, 3, 4, 5] as const) {
    const r = step({ ...initialState({ role: 'friend' }), step: stepNo }, { type: 'quit' });
    assert.equal(r.state.ended?.exit, 'cancelled', `step ${stepNo}`);
    assert.deepEqual(r.effects.at(-1), { type: 'exit', exit: 'cancelled' });
  }
});

test('after the end, every further event is ignored', () => {
  const ended = step(initialState(), { type: 'quit' }).state;
  for (const e of [{ type: 'continue' }, { type: 'pressY' }, { type: 'failed', message: 'x', next: '', exit: 'lost' }] as WizardEvent[])
    assert.deepEqual(step(ended, e), { state: ended, effects: [] });
});

test('every screen names its step and the keys that work on it', () => {
  for (const role of ['friend', 'helper'] as const)
    for (const stepNo of [1, 2, 3, 4, 5] as const) {
      const sc = screenFor({ ...initialState({ role }), step: stepNo, code: 'Q7CED' }, ctx);
      assert.equal(sc.step, stepNo);
      assert.ok(sc.title.length > 0);
      assert.ok(sc.keys.length > 0, `${role} step ${stepNo} names its keys`);
    }
});

test('a failed connection in the wizard goes back to step 3 with the problem, ready to fix', () => {
  const start: WizardState = { ...initialState({ role: 'friend' }), step: 4, address: 'helper.invalid' };
  const { s, effects } = run(start, [{ type: 'connectFailed', message: 'The name "helper.invalid" could not be found.', next: 'Check the spelling.' }]);
  assert.equal(s.step, 3);
  assert.equal(s.ended, null);
  assert.deepEqual(effects, []);
  assert.match(screenFor(s, ctx).lines.join('\n'), /could not be found/);
});

test('the helper is shown each address as it is read aloud', () => {
  const sc = screenFor({ ...initialState({ role: 'helper', helperName: 'Alex' }), step: 3 }, { addresses: ['192.0.2.10', '2001:db8::10'], listeningPort: 2300 });
  const text = sc.lines.join('\n');
  assert.match(text, /192 dot 0 dot 2 dot 10, port 2300/);
  assert.match(text, /2 0 0 1, colon, d b 8, colon colon, 1 0, port 2300/);
});

test('the remembered helper address is offered to a friend, never to a helper', () => {
  const s = initialState({ address: '192.0.2.10' });
  const asFriend = step({ ...s, step: 2 }, { type: 'chooseRole', role: 'friend' }).state;
  const asHelper = step({ ...s, step: 2 }, { type: 'chooseRole', role: 'helper' }).state;
  assert.equal(asFriend.address, '192.0.2.10');
  assert.equal(asHelper.address, '');
});

test('the friend chooses on steps 5 and 6 whether the helper may type; v toggles, the helper cannot', () => {
  let s: WizardState = { ...initialState({ role: 'friend', address: '192.0.2.1' }), step: 5, code: 'Q7CED' };
  assert.equal(s.helperMayType, true, 'by default the helper may type');
  s = step(s, { type: 'toggleTyping' }).state;
  assert.equal(s.helperMayType, false);
  s = step({ ...s, step: 6 }, { type: 'toggleTyping' }).state;
  assert.equal(s.helperMayType, true);
  const h = { ...initialState({ role: 'helper' }), step: 5 as const };
  assert.equal(step(h, { type: 'toggleTyping' }).state.helperMayType, true, 'the helper has no say');
  assert.equal(initialState({ role: 'friend', helperMayType: false }).helperMayType, false, '--view-only');
});

test('plain lines break between words at the terminal width; a long file name keeps a line of its own', () => {
  const long = 'A record of the session is in /var/log/remote-help/session-20261123-174838-16910.cast (remote-help replay shows it).';
  const lines = wrap(long, 40);
  assert.ok(lines.every((l) => l.length < 40 || !l.includes(' ')), JSON.stringify(lines));
  assert.equal(lines.join(' '), long, 'nothing lost or reordered');
  assert.ok(lines.includes('/var/log/remote-help/session-20261123-174838-16910.cast'));
  assert.deepEqual(wrap('short', 80), ['short']);
});

test('step 4 offers to start the network only when that is what is missing; N starts it once, then the offer is gone until made again', () => {
  const at4 = run(initialState({ role: 'friend' }), [{ type: 'continue' }, { type: 'setAddress', text: '192.0.2.10', problem: null }]).s;
  assert.equal(at4.step, 4);
  const unasked = run(at4, [{ type: 'activity', text: 'Nothing is waiting at 192.0.2.10:2222.' }, { type: 'startNetwork' }]);
  assert.deepEqual(unasked.effects, [], 'no offer: N does nothing');
  assert.doesNotMatch(screenFor(unasked.s, ctx).keys, /start the network/);
  const offered = run(at4, [{ type: 'activity', text: 'This computer is connected to a network but has no address on it yet.', offerNetwork: true }]).s;
  assert.match(screenFor(offered, ctx).keys, /^n: start the network/);
  assert.deepEqual(lineToEvent(offered, 'n'), { type: 'startNetwork' });
  const pressed = run(offered, [{ type: 'startNetwork' }, { type: 'startNetwork' }]);
  assert.deepEqual(pressed.effects, [{ type: 'startNetwork' }], 'started once');
  assert.equal(pressed.s.networkOffer, false);
});

test('the waiting side\'s step 3 turns the firewall option on and off (off by default; --open-firewall starts it on); the dialling side has none', () => {
  const waiting = run(initialState({ role: 'helper', helperName: 'Alex' }), [{ type: 'continue' }]).s;
  assert.equal(waiting.step, 3);
  assert.equal(waiting.openFirewall, false);
  assert.match(screenFor(waiting, ctx).lines.join('\n'), /Open the firewall port for me: off/);
  assert.deepEqual(lineToEvent(waiting, 'f'), { type: 'toggleFirewall' });
  const on = run(waiting, [{ type: 'toggleFirewall' }]).s;
  assert.match(screenFor(on, ctx).lines.join('\n'), /Open the firewall port for me: ON, for this session only/);
  assert.equal(run(on, [{ type: 'toggleFirewall' }]).s.openFirewall, false);
  assert.equal(initialState({ role: 'helper', openFirewall: true }).openFirewall, true);
  const dialling = run(initialState({ role: 'friend' }), [{ type: 'continue' }]).s;
  assert.equal(run(dialling, [{ type: 'toggleFirewall' }]).s.openFirewall, false);
  assert.match(screenFor(dialling, ctx).lines.join('\n'), /Firewall: nothing to open on this side/);
});
