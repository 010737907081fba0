// What the end-to-end tests share: a person's terminal (a tmux pane of a given size and locale),
// remote-help run from its shell framed by `stty -a` and the exit status, and checks on the result.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, NODE, sessionProcesses, tempDir, until } from './harness';
import { shellQuote, TmuxServer, type Pane } from './tmux';

// The friend: the Linux console, 80x25, no UTF-8. The helper: a UTF-8 xterm of another size.
export const FRIEND = { cols: 80, rows: 25, env: { TERM: 'linux', LANG: 'C', LC_ALL: '' } };
export const HELPER = { cols: 100, rows: 30, env: { TERM: 'xterm-256color', LANG: 'C.UTF-8', LC_ALL: '' } };

export const REMOTE_HELP = `${shellQuote(NODE)} ${shellQuote(BIN)}`;

export async function setup(t: TestContext, prefix = 'remote-help-e2e-') {
  const dir = tempDir(prefix);
  const tmux = new TmuxServer();
  t.after(async () => {
    await tmux.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { dir, tmux };
}

/** A person's terminal: a pane whose shell has the given size and locale (checked, not assumed). */
export async function terminal(tmux: TmuxServer, name: string, spec: typeof FRIEND, dir: string): Promise<Pane> {
  const pane = await tmux.pane(name, { ...spec, cwd: dir });
  await pane.line('echo "env:$TERM:$LANG:$LC_ALL:$(stty size)"');
  await pane.waitFor(`env:${spec.env.TERM}:${spec.env.LANG}:${spec.env.LC_ALL}:${spec.rows} ${spec.cols}`, 5000);
  return pane;
}

/** Runs remote-help from the pane's shell, framed by `stty -a` before and after and its exit status. */
export async function launch(pane: Pane, dir: string, args: string) {
  const before = path.join(dir, `${pane.name}.stty-before`);
  const after = path.join(dir, `${pane.name}.stty-after`);
  await pane.line(
    `stty -a > ${shellQuote(before)}; ${REMOTE_HELP} ${args}; echo EXIT=$?; stty -a > ${shellQuote(after)}; echo STTY-$((1+1))-SAVED`,
  );
  return {
    /** Waits for the program to end; its exit status and the terminal settings before and after. */
    async finished(ms = 10_000) {
      const m = await pane.waitFor(/^EXIT=(\d+)$/m, ms);
      await pane.waitFor(/^STTY-2-SAVED$/m, 5000);
      return { exit: Number(m[1]), before: fs.readFileSync(before, 'utf8'), after: fs.readFileSync(after, 'utf8') };
    },
  };
}

/** Both type into the one shell and see each other's output. */
export async function shareShell(friend: Pane, helper: Pane) {
  await helper.line('echo hello-$((6*7))');
  await friend.waitFor(/^hello-42\s*$/m);
  await helper.waitFor(/^hello-42\s*$/m);
  await friend.line('echo back-$((5*5))');
  await helper.waitFor(/^back-25\s*$/m);
  await friend.waitFor(/^back-25\s*$/m);
}

function readEvents(eventsFile: string): { event: string; [k: string]: unknown }[] {
  try {
    return fs.readFileSync(eventsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

/** The port a program started with --port 0 waits on: the one in its first `listening` event. */
export async function listeningPort(eventsFile: string, ms = 10_000): Promise<number> {
  const ev = await until(`a listening event in ${eventsFile}`, () => readEvents(eventsFile).find((e) => e.event === 'listening'), ms);
  return Number(ev.port);
}

export function sessionStartedPid(eventsFile: string): number {
  const events = readEvents(eventsFile);
  const started = events.find((e) => e.event === 'session-started');
  assert.ok(started, `a session-started event in ${eventsFile}`);
  return Number(started.pid);
}

export async function noneLeft(pid: number) {
  await until(`no process of the shared shell's session ${pid} to be left`, () => sessionProcesses(pid).length === 0, 5000);
}

export function noStackTrace(screen: string, who: string) {
  assert.doesNotMatch(screen, /^\s+at \S/m, `${who}: no stack trace on the screen`);
  assert.doesNotMatch(screen, /Error:/, `${who}: no "Error:" on the screen`);
}
