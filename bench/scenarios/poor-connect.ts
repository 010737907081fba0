// poor_connect, poor_connect_round_trips, poor_reconnect, poor_reconnect_round_trips: connecting
// and coming back behind the poor link (1 Mbit/s, 100 ms each way, 64 KB queue; the friend, or
// `ssh`, dials through it).
//
// poor_connect: as `connect` (first TCP connection at the proxy to the shell's prompt at the
// helper, `ssh -tt`: at the client), through the poor link. Human time is excluded: the harness
// reads the code from the friend's events file and types it at the helper, and presses y at the
// friend, as soon as each is asked for (a phone call with no delay).
// poor_connect_round_trips: the round trips that connection waited on until the prompt, counted
// by the proxy (proxy.ts: a Lamport clock per connection; round trips = one-way trips / 2). The
// harness's typing is the phone, not the link: it adds no trips of its own.
// poor_reconnect: with the same pair at its prompt, the proxy cuts the connection (both sockets
// destroyed, so each side sees the drop at once; a silent cut would add the time to notice it),
// the friend types `echo` at once, and the time runs until the helper's screen shows its output:
// the friend redials through the proxy, proves it is the same session, and the helper gets a
// fresh screen. Baseline: a fresh OpenSSH login through the same link, from starting `ssh` to
// its prompt (OpenSSH has no reconnect; a dropped user logs in again). Its round trips are
// counted on the redialled connection, as for poor_connect.
import { C } from '../options';
import { now } from '../processes';
import type { Link } from '../proxy';
import { record } from '../results';
import { alternate, withPair, withSsh, type Scenario } from '../sessions';

const POOR: Link = { rateBytesPerSec: 1_000_000 / 8, oneWayDelayMs: 100, queueBytes: 64 * 1024 };
const NOTE = '1 Mbit/s, 100 ms each way (user-space proxy on loopback, 64 KB queue)';

interface Figures {
  connectMs: number;
  roundTrips: number;
  reconnectMs: number;
  reconnectRoundTrips: number;
}

let round = 0;

export const poorConnect: Scenario = {
  name: 'poor_connect',
  async run(sshd) {
    const [rh, os_] = await alternate<Figures, Figures>(C.poorRounds,
      () => withPair(POOR, async (p) => {
        const connectMs = p.readyAt - p.firstAccept;
        const roundTrips = p.readyLegs / 2;
        const marker = `back-${++round}-`;
        p.helper.mark();
        const t0 = now();
        p.proxy.cut();
        p.friend.write(`echo ${marker}$((6*7))\r`);
        const t1 = await p.helper.waitFor(`${marker}42`, C.poorCapMs * 2, { screen: true });
        const reconnectRoundTrips = p.proxy.legs() / 2; // the newest connection's: the redial's
        if (p.proxy.accepted() < 2) throw new Error('the helper\'s screen came back without a new connection through the proxy');
        return { connectMs, roundTrips, reconnectMs: t1 - t0, reconnectRoundTrips };
      }),
      () => withSsh(sshd, POOR, async (s) => ({
        connectMs: s.readyAt - s.firstAccept,
        roundTrips: s.readyLegs / 2,
        reconnectMs: s.readyAt - s.startedAt,
        reconnectRoundTrips: s.readyLegs / 2,
      })));
    const pick = (xs: Figures[], k: keyof Figures) => xs.map((x) => x[k]);
    record('poor_connect', 'ms', pick(rh, 'connectMs'), 'ssh -tt', pick(os_, 'connectMs'), {
      target: '<= 1.0x OpenSSH', met: (_a, _b, r) => r <= 1.0,
      note: `first TCP connection at the proxy to the prompt at the helper, code typed and y pressed by the harness at once; ${NOTE}`,
    });
    record('poor_connect_round_trips', 'round trips', pick(rh, 'roundTrips'), 'ssh -tt', pick(os_, 'roundTrips'), {
      target: 'reported (no target)', met: () => null,
      note: 'one-way trips on the longest chain of waits (a Lamport clock in the proxy), halved; the TCP handshake not counted',
    });
    record('poor_reconnect', 'ms', pick(rh, 'reconnectMs'), 'ssh -tt (fresh login)', pick(os_, 'reconnectMs'), {
      target: '<= 1.0x a fresh OpenSSH login', met: (_a, _b, r) => r <= 1.0,
      note: `link cut (both sockets dropped), the friend types echo at once: until its output is on the helper's screen; OpenSSH: start of ssh to its prompt; ${NOTE}`,
    });
    record('poor_reconnect_round_trips', 'round trips', pick(rh, 'reconnectRoundTrips'), 'ssh -tt (fresh login)', pick(os_, 'reconnectRoundTrips'), {
      target: 'reported (no target)', met: () => null,
      note: 'as poor_connect_round_trips, on the redialled connection until the output is on the helper\'s screen',
    });
  },
};
