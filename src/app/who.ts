// Who is helping: the helper's side brings its identity into the handshake; the friend's side
// looks the proven identity up in its memory (known-helpers.ts) and its administrator's list of
// allowed helpers (policy.ts), and turns away a helper the list does not name.
import { HelpError } from '../errors';
import type { EventLog } from '../events';
import { fingerprint } from '../net/identity';
import type { Info } from '../net/messages';
import type { Identity, Verifying } from '../net/verify';
import { mayBeHelpedBy, type Policy } from '../policy';
import { freshKey } from '../net/keys';
import type { Role, Seen, WizardEvent } from '../screens/wizard';
import { hostname, userName } from '../system';
import type { IdentityStore } from './identity';
import type { KnownHelpers } from './known-helpers';

/** This side's details for one handshake: a fresh session key, and on the helper's side its
 * identity (made on first use) with the name chosen on step 3 or with --name, else the login name. */
export function myDetails(role: Role, store: IdentityStore, chosen: string, events: EventLog, say: (text: string) => void): Identity {
  const me: Identity = { role, key: freshKey(), user: userName(), host: hostname(), caps: 0 };
  if (role === 'friend') return me;
  const id = store.load();
  const name = chosen || id.name || userName();
  events.emit('identity', { fingerprint: id.fingerprint, name, ...(id.note ? { note: id.note } : {}) });
  if (id.note) say(id.note);
  return { ...me, identity: { key: id.key, name } };
}

/** The code is on the screen: what the events log and the wizard hear of it (the friend's side
 * also hears who the helper is, and whether they helped before). */
export function codeShown(role: Role, v: Verifying, known: KnownHelpers, events: EventLog): WizardEvent {
  const peer = { user: v.peer.user, host: v.peer.host };
  const seen = role === 'friend' ? seenBy(known, v.peer) : undefined;
  events.emit('code-shown', { code: v.code, peer: { ...peer, identity: helperId(v.peer), name: v.peer.identity?.name }, remote: v.remote, seen });
  return { type: 'codeShown', code: v.code, peer, seen };
}

/** The helper's identity as the friend's side names it: its fingerprint, or null when it gave none. */
export function helperId(peer: Info): string | null {
  return peer.identity ? fingerprint(peer.identity.key) : null;
}

/** What the friend's memory makes of the helper on step 5. */
export function seenBy(known: KnownHelpers, peer: Info): Seen {
  const id = helperId(peer);
  return id && peer.identity ? known.recall(id, peer.identity.name) : { kind: 'anonymous' };
}

/** The friend's side: a helper its administrator's list does not name is told so and turned away;
 * the person reads why. */
export function admitted(v: Verifying, policy: Policy, events: EventLog, say: (text: string) => void): Verifying {
  const id = helperId(v.peer);
  if (mayBeHelpedBy(policy, id)) return v;
  events.emit('helper-refused', { identity: id, name: v.peer.identity?.name ?? null, remote: v.remote });
  v.abort('not-allowed', 'this computer takes help only from the helpers its administrator chose');
  const who = v.peer.identity ? `"${v.peer.identity.name}" (${id})` : 'a helper without an identity';
  const e = new HelpError('policy', `This computer takes help only from the helpers its administrator chose (${policy.file}), and ${who} is not one of them.`,
    'Ask whoever looks after this computer, or ask your helper to check who they are.');
  say(`${e.message} It was turned away.`); // a waiting side goes on waiting; a dialling one ends with e
  throw e;
}
