// echo_p50, echo_p99: single keys typed at the helper into `cat` in the shared shell, until each
// echo is back at the helper; the same into `cat` over `ssh -tt`.
import { C, ROUNDS } from '../options';
import { now, sleep } from '../processes';
import { quantile, record } from '../results';
import { alternate, withPair, withSsh, type Scenario } from '../sessions';
import { PROMPT, type Term } from '../term';

/** Echo of single keys typed into `cat`: per-key round trips in ms. */
export async function echoLatencies(t: Term, keys: number, perKeyMs: number): Promise<number[]> {
  t.mark();
  t.write('stty -icanon; cat\r');
  // A stream shows `cat` and Enter; a painted screen, `cat` with the cursor on the next row.
  await t.waitFor((s) => s.includes('cat\r') || s.endsWith('cat\n'), 20_000);
  await sleep(100);
  const out: number[] = [];
  for (let i = 0; i < keys; i++) {
    const c = String.fromCharCode(97 + (i % 26));
    t.mark();
    const t0 = now();
    t.write(c);
    // The stream only: a painted screen shows the letter somewhere already (in the prompt).
    const t1 = await t.waitFor(c, perKeyMs, { screen: false });
    out.push(t1 - t0);
  }
  t.mark();
  t.write('\x03');
  await t.waitFor(PROMPT, 20_000);
  t.mark();
  t.write('stty sane\r');
  await t.waitFor(PROMPT, 20_000);
  return out;
}

export const echo: Scenario = {
  name: 'echo',
  async run(sshd) {
    const [rh, os_] = await alternate(ROUNDS,
      () => withPair(null, (p) => echoLatencies(p.helper, C.keys, 10_000)),
      () => withSsh(sshd, null, (s) => echoLatencies(s.client, C.keys, 10_000)));
    const p = (xs: number[][], q: number) => xs.map((x) => quantile(x, q));
    record('echo_p50', 'ms', p(rh, 0.5), 'ssh -tt', p(os_, 0.5), { target: '<= 1.2x OpenSSH', met: (_a, _b, r) => r <= 1.2, note: `${C.keys} keys into cat, typed at the helper` });
    record('echo_p99', 'ms', p(rh, 0.99), 'ssh -tt', p(os_, 0.99), { target: '<= 1.5x OpenSSH', met: (_a, _b, r) => r <= 1.5, note: `${C.keys} keys into cat, typed at the helper` });
  },
};
