// Golden screens: the REAL full-screen view (fullUI over blessed, in test/fixtures/show-screen.ts)
// draws one wizard state in a tmux pane of a given size, TERM and locale; capture-pane's text is
// compared with test/golden/<name>.txt. `UPDATE_GOLDEN=1` rewrites the files instead. The states
// are made with the wizard's own events, so they are states the program can really be in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './harness';
import { shellQuote, TmuxServer } from './tmux';
import { parseAddress } from '../src/net/address';
import { describeDialError } from '../src/net/tcp';
import { initialState, step, type WizardEvent, type WizardState } from '../src/screens/wizard';

const GOLDEN = path.join(ROOT, 'test', 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const CODE = 'Q7CED';
const PEER = { user: 'ana', host: 'laptop' };

function after(s: WizardState, ...events: WizardEvent[]): WizardState {
  for (const e of events) s = step(s, e).state;
  return s;
}
const friend = (): WizardState => initialState({ role: 'friend', port: 2222 });
const helper = (): WizardState => initialState({ role: 'helper', port: 2222, helperName: 'Alex, your nephew' });
// The friend's memory of helpers: Alex helped on 3 November (the fixture's today is 20 November).
const NOV3 = new Date(2026, 10, 3, 15, 0).getTime();
const seen = (s: WizardState['seen']) => ({ ...shown, seen: s ?? undefined });
const at = (s: WizardState, n: WizardState['step']): WizardState => ({ ...s, step: n });
const shown = { type: 'codeShown', code: CODE, peer: PEER } as const;

function addressProblem(text: string): string {
  try {
    parseAddress(text, 2222);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`${text} was expected not to be an address`);
}

const refused = describeDialError({ host: '192.0.2.10', port: 2222 } as never, Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));

const STATES: Record<string, WizardState> = {
  'friend-1': initialState(),
  'helper-1': helper(),
  'friend-2': at(friend(), 2),
  'helper-2': at(helper(), 2),
  'friend-3': at(friend(), 3),
  'friend-3-problem': after(at(friend(), 3), { type: 'setAddress', text: '192.0.2.10:99999', problem: addressProblem('192.0.2.10:99999') }),
  'helper-3': at(helper(), 3),
  'friend-4': after(at(friend(), 3), { type: 'setAddress', text: '192.0.2.10', problem: null },
    { type: 'activity', text: 'Connecting to your helper at 192.0.2.10...' }),
  'helper-4': after(at(helper(), 3), { type: 'continue' },
    { type: 'activity', text: 'Waiting for your friend to connect to 192.0.2.10 or 2001:db8::10 port 2222. Gives up after 30 minutes.' }),
  'helper-3-server': after(at(helper(), 3), { type: 'editVia' }),
  'helper-3-via': after(at(helper(), 3), { type: 'editVia' }, { type: 'setVia', text: 'alex@vps.example.org', problem: null }),
  'helper-4-word': after(at(helper(), 3), { type: 'editVia' }, { type: 'setVia', text: 'alex@vps.example.org', problem: null }, { type: 'continue' },
    { type: 'activity', text: 'Waiting for your friend at the meeting point vps.example.org. Gives up after 30 minutes. Read this to your friend: ' +
      'address alex@vps.example.org, then the one-time word K7QM-2D9X (say: Kilo Seven Quebec Mike Two Delta Nine X-ray).' }),
  'friend-3-word': after(at(friend(), 3), { type: 'setAddress', text: 'alex@vps.example.org', problem: null }),
  'friend-5': after(at(friend(), 4), shown),
  'friend-5-known': after(at(friend(), 4), seen({ kind: 'known', name: 'Alex, your nephew', before: 'Alex, your nephew', last: NOV3, sessions: 4 })),
  'friend-5-new': after(at(friend(), 4), seen({ kind: 'new', name: 'Alex, your nephew' })),
  'friend-5-impostor': after(at(friend(), 4), seen({ kind: 'impostor', name: 'Alex', before: 'Alex, your nephew', last: NOV3 })),
  'helper-3-name': at(initialState({ role: 'helper', port: 2222 }), 3),
  'friend-5-pressed-y': after(at(friend(), 4), shown, { type: 'pressY' }),
  'helper-5': after(at(helper(), 4), shown),
  'helper-5-mismatch': after(at(helper(), 4), shown, { type: 'codeTyped', matches: false }),
  'helper-5-match': after(at(helper(), 4), shown, { type: 'codeTyped', matches: true }),
  'friend-6': after(at(friend(), 4), shown, { type: 'pressY' }, { type: 'peerConfirmed' }),
  'helper-6': after(at(helper(), 4), shown, { type: 'codeTyped', matches: true }, { type: 'peerConfirmed' }),
  'friend-7': after(at(friend(), 4), shown, { type: 'pressY' }, { type: 'peerConfirmed' }, { type: 'sessionStarted' }),
  'helper-7': after(at(helper(), 4), shown, { type: 'codeTyped', matches: true }, { type: 'peerConfirmed' }, { type: 'sessionStarted' }),
  'friend-ended-failure': after(at(friend(), 4), { type: 'ended', ending: refused }),
};

interface Case {
  name: string;
  state: WizardState;
  cols: number;
  rows: number;
  term: string;
  lang: string;
  /** Text that shows the screen is up. */
  ready: RegExp;
}

const CONSOLE = { cols: 80, rows: 25, term: 'linux', lang: 'C' };
const UTF8 = { term: 'xterm-256color', lang: 'C.UTF-8' };
const readyFor = (s: WizardState) => (s.ended ? /remote-help/ : new RegExp(`Step ${s.step} of 7`));

const CASES: Case[] = [
  ...Object.entries(STATES).map(([name, state]) => ({ name, state, ...CONSOLE, ready: readyFor(state) })),
  { name: 'friend-5-utf8', state: STATES['friend-5'], cols: 80, rows: 25, ...UTF8, ready: /Step 5 of 7/ },
  { name: 'helper-3-utf8', state: STATES['helper-3'], cols: 80, rows: 25, ...UTF8, ready: /Step 3 of 7/ },
  { name: 'friend-5-utf8-120x40', state: STATES['friend-5'], cols: 120, rows: 40, ...UTF8, ready: /Step 5 of 7/ },
  { name: 'helper-3-utf8-120x40', state: STATES['helper-3'], cols: 120, rows: 40, ...UTF8, ready: /Step 3 of 7/ },
  // A serial console: vt220, 80x24, no UTF-8.
  { name: 'friend-5-vt220-80x24', state: STATES['friend-5'], cols: 80, rows: 24, term: 'vt220', lang: 'C', ready: /Step 5 of 7/ },
  { name: 'friend-5-impostor-vt220-80x24', state: STATES['friend-5-impostor'], cols: 80, rows: 24, term: 'vt220', lang: 'C', ready: /Step 5 of 7/ },
  { name: 'too-small-50x15', state: STATES['friend-1'], cols: 50, rows: 15, term: 'linux', lang: 'C', ready: /too small/ },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The visible screen (no history), once it shows `ready` and has stopped changing. */
async function settled(tmux: TmuxServer, name: string, ready: RegExp, ms = 15_000): Promise<string> {
  const deadline = Date.now() + ms;
  let last = '';
  let same = 0;
  for (;;) {
    const text = await tmux.tmux('capture-pane', '-p', '-t', name);
    if (ready.test(text) && text === last) {
      if (++same >= 3) return text;
    } else same = 0;
    last = text;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for a steady ${ready} in ${name}; it shows:\n${text}`);
    await sleep(100);
  }
}

function firstDifference(a: string, b: string): string {
  const al = a.split('\n');
  const bl = b.split('\n');
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) return `line ${i + 1}:\n  got:      ${JSON.stringify(al[i])}\n  expected: ${JSON.stringify(bl[i])}`;
  }
  return 'none';
}

test('golden screens: the full-screen views as tmux shows them', { concurrency: 6 }, async (t) => {
  const tmux = new TmuxServer();
  t.after(() => tmux.kill());
  // Each screen's session closes when it quits: this one keeps the server up until kill().
  await tmux.pane('keeper', { cols: 80, rows: 25, env: { TERM: 'linux', LANG: 'C', LC_ALL: '' }, cwd: ROOT });
  await Promise.all(CASES.map((c) => t.test(c.name, async () => {
    const pane = await tmux.pane(c.name, { cols: c.cols, rows: c.rows, env: { TERM: c.term, LANG: c.lang, LC_ALL: '' }, cwd: ROOT });
    const json = JSON.stringify(c.state);
    await pane.line(`clear; exec ${shellQuote(process.execPath)} --import tsx test/fixtures/show-screen.ts ${shellQuote(json)}`);
    const got = await settled(tmux, c.name, c.ready);
    // The pane really is the size and locale asked for.
    const size = (await tmux.tmux('display-message', '-p', '-t', c.name, '#{pane_width}x#{pane_height}')).trim();
    assert.equal(size, `${c.cols}x${c.rows}`);
    const file = path.join(GOLDEN, `${c.name}.txt`);
    if (UPDATE) {
      fs.mkdirSync(GOLDEN, { recursive: true });
      fs.writeFileSync(file, got);
    } else {
      assert.ok(fs.existsSync(file), `${file} exists (run with UPDATE_GOLDEN=1 to create it)`);
      const want = fs.readFileSync(file, 'utf8');
      assert.ok(got === want, `${c.name} differs from ${file}, first difference at ${firstDifference(got, want)}\nscreen:\n${got}`);
    }
    // Ctrl-C quits every screen (the fixture ran with exec, so its pane and session close).
    await pane.key('C-c');
    const deadline = Date.now() + 5000;
    while ((await tmux.tmux('list-sessions', '-F', '#{session_name}').catch(() => '')).split('\n').includes(c.name)) {
      if (Date.now() > deadline) throw new Error(`${c.name}: Ctrl-C did not end the screen; it shows:\n${await tmux.tmux('capture-pane', '-p', '-t', c.name)}`);
      await sleep(50);
    }
  })));
});
