// What the wizard starts from: the person's options, this machine's desktop, and what this
// computer's administrator allows (policy.ts); and the choices the policy refuses on the way (a
// role, a helper's address), each said in plain words.
import { HelpError } from '../errors';
import { parseAddress } from '../net/address';
import { isMeetingAddress, parseMeetingAddress } from '../net/meeting-word';
import { mayConnectTo, TURNED_OFF, type Policy } from '../policy';
import { desktopOffer, findDesktop, type DesktopFound } from '../session/desktop';
import { transcriptDirs } from '../session/transcript';
import { initialState, type Role, type WizardEvent, type WizardState } from '../screens/wizard';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The person's choices on the command line, as the wizard keeps them. */
export type Start = Pick<WizardState, 'role' | 'reverse' | 'address' | 'port' | 'via' | 'word' | 'helperMayType' | 'shareDesktop' | 'openFirewall' | 'mapPort'> &
  Partial<Pick<WizardState, 'helperName'>>;

/** The wizard's first state, and the desktop there is to share (the friend's side). */
export function startState(o: Start, policy: Policy): { state: WizardState; desktop: DesktopFound } {
  const desktop: DesktopFound = o.role === 'helper' ? { kind: 'none', why: '' } : findDesktop();
  const offer = !policy.desktop ? { available: false, note: `Sharing the screen is ${TURNED_OFF}.` } : desktopOffer(desktop);
  const off = { typing: policy.helperMayType === 'no', firewall: !policy.openFirewall, mapPort: !policy.mapPort, meeting: !policy.meetingPoint };
  const state = initialState({
    ...o,
    helperMayType: o.helperMayType && policy.helperMayType === 'yes',
    desktopAvailable: offer.available,
    desktopNote: offer.note ?? (o.shareDesktop && desktop.kind === 'none' ? desktop.why : null),
    off,
  });
  return { state, desktop };
}

const refused = (what: string, next = 'Ask whoever looks after this computer.') => new HelpError('policy', what, next);

/** Why the policy refuses this start, or null (checked before anything else happens). */
export function refusedStart(o: Start, policy: Policy): HelpError | null {
  if (o.role) {
    const e = refusedRole(o.role, policy);
    if (e) return e;
  }
  const asked = [o.openFirewall && !policy.openFirewall && '--open-firewall', o.mapPort && !policy.mapPort && '--map-port',
    o.via && !policy.meetingPoint && '--via'].filter(Boolean);
  if (asked.length) return refused(`${asked.join(' and ')} ${asked.length > 1 ? 'are' : 'is'} ${TURNED_OFF} (${policy.file}).`, 'Start again without it.');
  if (o.role === 'friend' && o.reverse && policy.connectTo.length > 0)
    return refused(`This computer may only connect to the helpers its administrator chose (${policy.connectTo.join(', ')}), so it does not wait for one.`, 'Start again without --reverse.');
  if (o.address && o.role === 'friend') return refusedAddress(o.address, o.port, policy);
  return null;
}

function refusedRole(role: Role, policy: Policy): HelpError | null {
  if (role === 'friend' && !policy.helpThisMachine) return refused(`This computer's administrator does not allow it to be helped with remote-help (${policy.file}).`);
  if (role === 'helper' && !policy.helpOthers) return refused(`This computer's administrator does not allow helping others from it with remote-help (${policy.file}).`);
  return null;
}

/** A helper's address (or meeting point) the friend typed, against the policy. */
function refusedAddress(text: string, port: number, policy: Policy): HelpError | null {
  let host: string;
  try {
    host = isMeetingAddress(text) ? parseMeetingAddress(text).host : parseAddress(text, port).host;
  } catch {
    return null; // said by the address check itself
  }
  if (isMeetingAddress(text) && !policy.meetingPoint) return refused(`Meeting points are ${TURNED_OFF}.`);
  if (!mayConnectTo(policy, host) && !mayConnectTo(policy, text))
    return refused(`This computer may only connect to the helpers its administrator chose: ${policy.connectTo.join(', ')}.`, 'Check the address with your helper.');
  return null;
}

/** The wizard's events as the policy lets them through: a refused role ends it, a refused address
 * is a problem to fix on step 3. */
export function policed(e: WizardEvent, s: WizardState, policy: Policy): WizardEvent {
  if (e.type === 'chooseRole') {
    const r = refusedRole(e.role, policy);
    if (r) return { type: 'ended', ending: r };
  }
  if (e.type === 'setAddress' && !e.problem && s.role === 'friend') {
    const r = refusedAddress(e.text, s.port, policy);
    if (r) return { ...e, problem: r.message };
  }
  return e;
}

/** With "transcript = required": a session may start only where its record is kept on disk. */
export function refusedTranscript(policy: Policy, thrown = false): HelpError | null {
  if (policy.transcript !== 'required') return null;
  const dir = transcriptDirs()[0];
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const probe = path.join(dir, `.probe-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
    return null;
  } catch (err) {
    const e = refused(`This computer's administrator requires a record of every session, and it cannot be written in ${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)}), so no session starts.`,
      'Make that disk writable (outside the recovery menu, or after remounting it read-write), then start again.');
    if (thrown) throw e;
    return e;
  }
}
