// Sessions: remote-help pairs and OpenSSH sessions, each ending at a prompt on the helper's side,
// and the alternation of remote-help and its baseline round by round.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sessionProcesses } from '../src/session/processes';
import { PROFILE } from './options';
import { BIN, comm, killBottomUp, now, sleep, tempDir, until } from './processes';
import { startProxy, type Link, type Proxy } from './proxy';
import type { Sshd } from './sshd';
import { PROMPT, Term } from './term';

export const HOTKEY = '\x1b\x03';

/** One named part of the benchmark: it runs its rounds and records its rows. */
export type Scenario = { name: string; run(sshd: Sshd): Promise<void> };

// Transcripts of benchmark sessions go to a directory of their own, removed at the end. Every
// shell (remote-help's and OpenSSH's, see sshd.ts) starts in an empty HOME: no dotfiles of the
// machine running the benchmark (a login shell could wait on a lock a killed shell left).
const STATE_DIR = tempDir('remote-help-bench-state-');
export const SHELL_HOME = tempDir('remote-help-bench-home-');
export const SHELL_ENV = { SHELL: '/bin/bash', HISTFILE: '/dev/null', HOME: SHELL_HOME, REMOTE_HELP_STATE_DIR: STATE_DIR, REMOTE_HELP_CONFIG_DIR: STATE_DIR };
const RH = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(PROFILE)}`, BIN] : [BIN];

function readEvents(file: string): { event: string; [k: string]: unknown }[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

export interface Pair {
  friend: Term;
  helper: Term;
  shellPid: number;
  /** when the helper saw the shell's prompt */
  readyAt: number;
  firstAccept: number;
  /** What a side's events file holds so far. */
  events(side: 'helper' | 'friend'): { event: string; [k: string]: unknown }[];
  /** The link between the two (cut() drops it) and its one-way trips when the prompt showed. */
  proxy: Proxy;
  readyLegs: number;
  end(): Promise<void>;
}

/**
 * A friend and a helper at a shared shell. The friend dials through a proxy (plain, to time the
 * first TCP connection, or a poor link); the harness answers the code step from the events files.
 */
export async function rhPair(link: Link | null = null): Promise<Pair> {
  const dir = tempDir('remote-help-bench-');
  const hEvents = path.join(dir, 'helper.jsonl');
  const fEvents = path.join(dir, 'friend.jsonl');
  // The helper's side paints its screen like the friend's (frames of cursor moves and cells, not
  // the shell's stream), so waits for "the prompt is back" read its screen through an emulator
  // too. It waits on a port the system picks, named in its `listening` event.
  const helper = new Term('helper', process.execPath, [...RH, 'helper', '--port', '0', '--plain', '--session', 'screen', '--events', hEvents], { env: SHELL_ENV, painted: true });
  const listening = await until('the helper to listen', () => readEvents(hEvents).find((e) => e.event === 'listening'), 20_000, 5);
  const port = Number(listening.port);
  const proxy = await startProxy(port, link);
  const friend = new Term('friend', process.execPath, [...RH, 'friend', `127.0.0.1:${proxy.port}`, '--plain', '--session', 'screen', '--events', fEvents], { env: SHELL_ENV, painted: true });
  const shown = await until('the code on the friend side', () => readEvents(fEvents).find((e) => e.event === 'code-shown'), 30_000, 2);
  await helper.waitFor('Type the five symbols', 30_000);
  helper.mark();
  proxy.phone();
  helper.write(`${String(shown.code).toLowerCase()}\r`);
  await helper.waitFor('Ask your friend to press y', 30_000);
  helper.mark();
  proxy.phone();
  friend.write('y\r');
  const banner = 'To leave: press Enter, then type ~.';
  await helper.waitFor(banner, 30_000);
  const i = helper.tail.lastIndexOf(banner);
  helper.tail = helper.tail.slice(i + banner.length);
  const readyAt = await helper.waitFor(PROMPT, 30_000);
  const readyLegs = proxy.legs();
  const started = await until('session-started', () => readEvents(fEvents).find((e) => e.event === 'session-started'), 10_000, 5);
  const shellPid = Number(started.pid);
  return {
    friend, helper, shellPid, readyAt, firstAccept: proxy.firstAccept, proxy, readyLegs,
    events: (side) => readEvents(side === 'helper' ? hEvents : fEvents),
    async end() {
      helper.signal('SIGCONT');
      if (!friend.exitedAt) friend.write(HOTKEY);
      await Promise.race([Promise.all([friend.exited, helper.exited]), sleep(5000)]);
      friend.kill();
      helper.kill();
      proxy.close();
      const left = sessionProcesses(shellPid);
      for (const p of left) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
    },
  };
}

export interface SshSession {
  client: Term;
  /** when `ssh` was started */
  startedAt: number;
  readyAt: number;
  firstAccept: number;
  /** one-way trips through the proxy when the prompt showed (poor links only) */
  readyLegs: number;
  /** sshd's processes for this connection (not the shell) */
  serverPids(): number[];
  end(): Promise<void>;
}

export async function sshSession(sshd: Sshd, link: Link | null = null): Promise<SshSession> {
  const before = new Set(sshd.processes());
  const proxy = await startProxy(sshd.port, link);
  const startedAt = now();
  const client = new Term('ssh', 'ssh', sshd.sshArgs(proxy.port), { env: SHELL_ENV });
  const readyAt = await client.waitFor(PROMPT, 30_000);
  const readyLegs = proxy.legs();
  const mine = sshd.processes().filter((p) => !before.has(p));
  return {
    client, startedAt, readyAt, firstAccept: proxy.firstAccept, readyLegs,
    serverPids: () => mine.filter((p) => /^sshd/.test(comm(p))),
    async end() {
      client.kill();
      await Promise.race([client.exited, sleep(3000)]);
      proxy.close();
      // sshd ends the session itself once the client is gone; only stragglers are killed.
      await until('sshd to end the session', () => mine.every((p) => !fs.existsSync(`/proc/${p}`)), 2000, 10).catch(() => {});
      killBottomUp(mine);
    },
  };
}

export async function withPair<T>(link: Link | null, f: (p: Pair) => Promise<T>): Promise<T> {
  const p = await rhPair(link);
  try {
    return await f(p);
  } finally {
    await p.end();
  }
}

export async function withSsh<T>(sshd: Sshd, link: Link | null, f: (s: SshSession) => Promise<T>): Promise<T> {
  const s = await sshSession(sshd, link);
  try {
    return await f(s);
  } finally {
    await s.end();
  }
}

/** Alternates remote-help and the baseline, round by round; the order flips every round. */
export async function alternate<A, B>(rounds: number, rh: () => Promise<A>, base: () => Promise<B>): Promise<[A[], B[]]> {
  const a: A[] = [];
  const b: B[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      a.push(await rh());
      b.push(await base());
    } else {
      b.push(await base());
      a.push(await rh());
    }
  }
  return [a, b];
}
