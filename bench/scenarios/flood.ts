// kill_flood: how fast the friend's hotkey ends a session whose shell floods and whose helper is
// stopped. ctrlc_flood_*: the friend's Ctrl-C during a flood, until the prompt is back (with the
// helper reading, with it stopped; OpenSSH: at the client).
import { sessionProcesses } from '../../src/session/processes';
import { C, ROUNDS } from '../options';
import { now, sleep, until } from '../processes';
import { record } from '../results';
import { HOTKEY, alternate, withPair, withSsh, type Scenario } from '../sessions';
import { PROMPT, type Term } from '../term';

const FLOOD = 'yes flood-flood-flood';
const FLOODED = /(flood-flood-flood\r*\n){15}/;

/** Starts the flood in the shell and waits until `watch` shows it. */
export async function startFlood(typer: Term, watch: Term) {
  typer.mark();
  watch.mark();
  typer.write(FLOOD + '\r');
  await watch.waitFor(FLOODED, 20_000);
  await sleep(300);
}

/** Ctrl-C typed at `typer`; ms until `watch` shows a prompt again (capped). */
export async function ctrlC(typer: Term, watch: Term, capMs: number): Promise<{ ms: number; capped: boolean }> {
  watch.mark();
  const t0 = now();
  typer.write('\x03');
  try {
    const t1 = await watch.waitFor(PROMPT, capMs, { screen: true });
    return { ms: t1 - t0, capped: false };
  } catch {
    return { ms: capMs, capped: true };
  }
}

export const killFlood: Scenario = {
  name: 'kill_flood',
  async run() {
    const rh: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      rh.push(await withPair(null, async (p) => {
        p.helper.signal('SIGSTOP');
        await startFlood(p.friend, p.friend);
        const t0 = now();
        p.friend.write(HOTKEY);
        p.helper.signal('SIGCONT');
        await Promise.race([Promise.all([p.friend.exited, p.helper.exited]), sleep(C.floodCapMs)]);
        await until('the session processes to be gone', () => sessionProcesses(p.shellPid).length === 0, C.floodCapMs, 1).catch(() => {});
        const gone = now();
        const ends = [p.friend.exitedAt || gone, p.helper.exitedAt || gone, gone];
        return Math.max(...ends) - t0;
      }));
    }
    record('kill_flood', 'ms', rh, 'target', rh.map(() => 100), { target: '<= 100 ms', met: (a) => a <= 100, note: 'helper SIGSTOPped, `yes` in the shell, friend presses Ctrl-Alt-C (helper continued at once): both exited and the pty session empty' });
  },
};

export const ctrlcFlood: Scenario = {
  name: 'ctrlc_flood',
  async run(sshd) {
    const [reading, os_] = await alternate(ROUNDS,
      () => withPair(null, async (p) => {
        await startFlood(p.friend, p.helper);
        return (await ctrlC(p.friend, p.friend, C.floodCapMs)).ms;
      }),
      () => withSsh(sshd, null, async (s) => {
        await startFlood(s.client, s.client);
        return (await ctrlC(s.client, s.client, C.floodCapMs)).ms;
      }));
    const stalled: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      stalled.push(await withPair(null, async (p) => {
        p.helper.signal('SIGSTOP');
        await startFlood(p.friend, p.friend);
        return (await ctrlC(p.friend, p.friend, C.floodCapMs)).ms;
      }));
    }
    record('ctrlc_flood_reading', 'ms', reading, 'ssh -tt', os_, { target: '<= 300 ms', met: (a) => a <= 300, note: 'friend presses Ctrl-C during `yes`; prompt back on the friend\'s screen (OpenSSH: on the client\'s)' });
    record('ctrlc_flood_stalled', 'ms', stalled, 'ssh -tt (reading)', os_, { target: '<= 300 ms', met: (a) => a <= 300, note: 'as above with the helper SIGSTOPped' });
  },
};
