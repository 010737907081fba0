// connect: the first TCP connection to the shell prompt at the helper (ssh -tt: at the client).
// first_screen: the start of remote-help (the wizard) to its first screen (node -e 0: to its exit).
import { ROUNDS } from '../options';
import { BIN, now } from '../processes';
import { record } from '../results';
import { SHELL_ENV, alternate, withPair, withSsh, type Scenario } from '../sessions';
import { Term } from '../term';

export const connect: Scenario = {
  name: 'connect',
  async run(sshd) {
    const [rh, os_] = await alternate(ROUNDS,
      () => withPair(null, async (p) => p.readyAt - p.firstAccept),
      () => withSsh(sshd, null, async (s) => s.readyAt - s.firstAccept));
    record('connect', 'ms', rh, 'ssh -tt', os_, { target: '<= 0.5x OpenSSH', met: (_a, _b, r) => r <= 0.5, note: 'first TCP connection to the prompt at the helper; code typed and y pressed by the harness as soon as shown' });
  },
};

export const firstScreen: Scenario = {
  name: 'first_screen',
  async run() {
    const [rh, node] = await alternate(Math.max(ROUNDS, 3), async () => {
      const t0 = now();
      const t = new Term('wizard', process.execPath, [BIN], { env: SHELL_ENV });
      try {
        return (await t.waitFor(/Welcome to remote-help/i, 20_000)) - t0;
      } finally {
        t.kill();
        await t.exited;
      }
    }, async () => {
      const t0 = now();
      const t = new Term('node', process.execPath, ['-e', '0']);
      await t.exited;
      return t.exitedAt - t0;
    });
    record('first_screen', 'ms', rh, 'node -e 0', node, { target: '<= node -e 0 + 150 ms', met: (a, b) => a - b <= 150, note: 'start of remote-help (wizard) to its first screen, in a pty' });
  },
};
