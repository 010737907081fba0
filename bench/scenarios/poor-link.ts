// poor_echo_p50, poor_ctrlc_flood: echo and Ctrl-C under a flood with the helper (the ssh client)
// behind a user-space proxy on loopback at 1 Mbit/s and 100 ms each way, 64 KB queue.
import { C } from '../options';
import { sleep } from '../processes';
import type { Link } from '../proxy';
import { quantile, record } from '../results';
import { alternate, withPair, withSsh, type Scenario } from '../sessions';
import { echoLatencies } from './echo';
import { ctrlC, startFlood } from './flood';

const POOR: Link = { rateBytesPerSec: 1_000_000 / 8, oneWayDelayMs: 100, queueBytes: 64 * 1024 };

export const poorLink: Scenario = {
  name: 'poor_link',
  async run(sshd) {
    const [rh, os_] = await alternate(C.poorRounds,
      () => withPair(POOR, (p) => echoLatencies(p.helper, C.poorKeys, 20_000)),
      () => withSsh(sshd, POOR, (s) => echoLatencies(s.client, C.poorKeys, 20_000)));
    const note = '1 Mbit/s, 100 ms each way (user-space proxy on loopback, 64 KB queue)';
    record('poor_echo_p50', 'ms', rh.map((x) => quantile(x, 0.5)), 'ssh -tt', os_.map((x) => quantile(x, 0.5)), { target: '<= 1.2x OpenSSH', met: (_a, _b, r) => r <= 1.2, note: `${C.poorKeys} keys; ${note}` });
    const capped: string[] = [];
    const [rc, oc] = await alternate(C.poorRounds,
      () => withPair(POOR, async (p) => {
        await startFlood(p.friend, p.helper);
        const r = await ctrlC(p.friend, p.helper, C.poorCapMs);
        if (r.capped) {
          // Did the helper's screen stop in the flood (the prompt never sent) or is it still draining?
          const q0 = p.helper.bytes;
          await sleep(1000);
          const still = p.helper.bytes > q0 ? 'still receiving' : `idle, ending ${JSON.stringify(p.helper.tail.slice(-24))}`;
          capped.push(`remote-help (helper screen ${still})`);
        }
        return r.ms;
      }),
      () => withSsh(sshd, POOR, async (s) => {
        await startFlood(s.client, s.client);
        const r = await ctrlC(s.client, s.client, C.poorCapMs);
        if (r.capped) capped.push('ssh');
        return r.ms;
      }));
    record('poor_ctrlc_flood', 'ms', rc, 'ssh -tt', oc, {
      target: '<= 300 ms', met: (a) => a <= 300,
      note: `Ctrl-C during \`yes\`, prompt back on the helper's screen (behind the link); ${note}${capped.length ? `; capped at ${C.poorCapMs} ms: ${capped.join(', ')}` : ''}`,
    });
  },
};
