// Finding the friend's desktop (src/session/desktop.ts) and what steps 5 and 6 offer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desktopOffer, findDesktop } from '../src/session/desktop';
import { initialState, stepAll } from '../src/screens/wizard';
import { screenFor } from '../src/screens/view';
import { lineToEvent } from '../src/screens/plain';

test('this program\'s own X display is the desktop; a Wayland session is said, not shared', () => {
  assert.deepEqual(findDesktop({ DISPLAY: ':7', XAUTHORITY: '/tmp/auth-of-7', HOME: '/nonexistent' }), { kind: 'x11', display: ':7', auth: '/tmp/auth-of-7' });
  assert.deepEqual(findDesktop({ DISPLAY: ':7.0', HOME: '/nonexistent' }), { kind: 'x11', display: ':7.0', auth: null });
  for (const env of [{ WAYLAND_DISPLAY: 'wayland-0', DISPLAY: ':0' }, { XDG_SESSION_TYPE: 'wayland' }]) {
    const found = findDesktop(env);
    assert.equal(found.kind, 'none');
    assert.match(found.kind === 'none' ? found.why : '', /This is a Wayland desktop: remote-help can share the shell here, not the screen/);
    assert.deepEqual(desktopOffer(found), { available: false, note: found.kind === 'none' ? found.why : '' });
  }
  assert.deepEqual(desktopOffer({ kind: 'none', why: 'No graphical desktop is running' }), { available: false, note: null });
});

test('the friend\'s steps 5 and 6: d shares the screen too when there is one, and says why not when there is not', () => {
  const shown = { type: 'codeShown', code: 'Q7CED', peer: { user: 'ana', host: 'laptop' } } as const;
  const ctx = { addresses: [], listeningPort: null };
  let { s } = stepAll({ ...initialState({ role: 'friend', desktopAvailable: true }), step: 4 }, [shown]);
  assert.match(screenFor(s, ctx).lines.join('\n'), /Press d to share your screen too\./);
  assert.match(screenFor(s, ctx).keys, /d: screen/);
  ({ s } = stepAll(s, [lineToEvent(s, 'd')!]));
  assert.equal(s.shareDesktop, true);
  assert.match(screenFor(s, ctx).lines.join('\n'), /Your screen will be shared too\. Press d to share only the shell\./);
  ({ s } = stepAll(s, [{ type: 'pressY' }, { type: 'peerConfirmed' }, { type: 'toggleDesktop' }]));
  assert.equal(s.step, 6);
  assert.equal(s.shareDesktop, false);
  const none = stepAll({ ...initialState({ role: 'friend', desktopNote: 'Your screen cannot be shared: x11vnc is not installed (apt-get install x11vnc).' }), step: 4 }, [shown, { type: 'toggleDesktop' }]).s;
  assert.equal(none.shareDesktop, false, 'nothing to share: d changes nothing');
  assert.match(screenFor(none, ctx).lines.join('\n'), /x11vnc is not installed/);
  assert.doesNotMatch(screenFor(none, ctx).keys, /d: screen/);
  assert.equal(initialState({ shareDesktop: true }).shareDesktop, false, '--desktop without a desktop shares nothing');
});

test('a VNC server already listening here is named, and left alone', () => {
  const found = { kind: 'x11', display: ':0', auth: null } as const;
  const offer = desktopOffer(found, [5900]);
  if (!offer.available) return; // no x11vnc on this machine: said instead (the test above)
  assert.match(offer.note!, /A VNC server already runs here \(port 5900\): remote-help leaves it alone and shares your screen with one of its own/);
  assert.equal(desktopOffer(found, []).note, null);
  const ctx = { addresses: [], listeningPort: null };
  const s = { ...initialState({ role: 'friend', desktopAvailable: true, desktopNote: offer.note }), step: 5 as const, code: 'Q7CED' };
  assert.match(screenFor(s, ctx).lines.join('\n'), /Press d to share your screen too\.\nA VNC server already runs here/);
});
