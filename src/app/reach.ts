// Getting through, on the person's word: starting this machine's network (N on step 4; the
// work is src/net/bringup.ts), and the waiting side's firewall (src/net/firewall.ts does the
// rules): the port opened for this session and closed again by the teardown; without the word, a
// firewall that would keep the other person out is named, with what to do.
import type { EventLog } from '../events';
import type { Address } from '../net/address';
import { startNetwork, type BringUp } from '../net/bringup';
import { missingLayer, readNetFacts } from '../net/diagnose';
import { blockers, openHole, sweepStaleHoles } from '../net/firewall';
import { mapPort } from '../net/portmap';
import { localAddresses } from '../net/tcp';
import type { Teardown } from '../teardown';

/** Starts the network for reaching `target`, each step and the result in the events log. */
export async function networkOnRequest(target: Address, signal: AbortSignal | undefined, events: EventLog): Promise<BringUp> {
  const r = await startNetwork(target, signal ?? new AbortController().signal,
    (what, ok, output) => events.emit('network-start', { what, ok, output: output.slice(-500) }));
  events.emit('network-start', { ok: r.ok, tried: r.tried, text: r.text });
  return r;
}

/** What step 4 adds to its "waiting" line, and what the last screen adds (null: nothing opened). */
function firewallForWaiting(o: { port: number; open: boolean; other: string; events: EventLog; teardown: Teardown }): { text: string; closedNote: string | null } {
  const swept = sweepStaleHoles();
  if (swept > 0) o.events.emit('firewall', { swept });
  if (!o.open) {
    const found = blockers(o.port);
    if (found.length === 0) return { text: '', closedNote: null };
    o.events.emit('firewall', { blocking: found, port: o.port });
    return {
      text: `This computer's firewall (${found.join(', ')}) keeps port ${o.port} closed, so your ${o.other} cannot connect. ` +
        'Start again with --open-firewall (or choose it on step 3) to let remote-help open it for this session only.',
      closedNote: null,
    };
  }
  const hole = openHole(o.port);
  if (hole.where.length === 0) return { text: '', closedNote: null };
  o.teardown.add('firewall hole', () => hole.close());
  o.events.emit('firewall', { opened: hole.where, port: o.port });
  return {
    text: `remote-help opened this computer's firewall (${hole.where.join(', ')}) for port ${o.port}, for this session only.`,
    closedNote: `The firewall is closed again on port ${o.port}.`,
  };
}

/** What the waiting side does about getting through once it listens on `port`: the firewall
 * (at once), then, when asked, the router's port mapping. `say` gets what step 4 adds to its
 * "waiting" line as it changes; returns what the last screen adds once something was opened. */
export function gettingThrough(o: { port: number; openFirewall: boolean; mapPort: boolean; other: string; events: EventLog; teardown: Teardown; say(text: string): void }): string[] {
  const fw = firewallForWaiting({ port: o.port, open: o.openFirewall, other: o.other, events: o.events, teardown: o.teardown });
  // No network at all is said first: nobody can connect until it is there. (Any IPv4 address
  // stands for "the other person" here; nothing is sent anywhere.)
  const missing = missingLayer(readNetFacts(), { host: '0.0.0.0', port: o.port });
  if (missing && (missing.layer === 'link' || missing.layer === 'address')) {
    o.events.emit('network', { missing: missing.layer });
    fw.text = [`${missing.text} ${missing.next} Your ${o.other} cannot reach this computer until then.`, fw.text].filter(Boolean).join(' ');
  }
  const closed = fw.closedNote ? [fw.closedNote] : [];
  o.say(fw.text);
  if (!o.mapPort) return closed;
  const both = (text: string) => o.say([fw.text, text].filter(Boolean).join(' '));
  both(`Asking your router to forward port ${o.port} to this computer...`);
  closed.push(`Your router no longer forwards port ${o.port}.`);
  void mapPort(o.port).then((m) => {
    if (typeof m === 'string') {
      o.events.emit('port-mapped', { error: m });
      return both(`The router could not be asked (${m}). Forward port ${o.port} to this computer (${localAddresses()[0] ?? 'its address'}) by hand in your router's settings, or use --reverse.`);
    }
    o.teardown.add('router port mapping', () => m.close());
    o.events.emit('port-mapped', { via: m.via, external: m.external, port: m.port });
    both(`Your router (${m.via}) forwards port ${m.port} here for this session. Read this to your ${o.other}: address ${m.external} port ${m.port}.`);
  });
  return closed;
}
