import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawn } from '@lydell/node-pty';
import { killSession, parseStat, sessionProcesses } from '../src/session/processes';

/** The session's processes whose command line is a `sleep`, those started by the test. */
function sleepers(sid: number): number[] {
  return sessionProcesses(sid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0');
    } catch {
      return false;
    }
  });
}

/** Poll what() every 20 ms until ok(value) or ms have passed; returns the last value. */
async function until<T>(what: () => T, ok: (v: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let value = what();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = what();
  }
  return value;
}

describe('parseStat', () => {
  it('reads the fields after the last parenthesis, whatever comm contains', () => {
    assert.deepEqual(parseStat('123 (a) b) S 1 123 123 34816 123 4194560 0 0'), {
      pid: 123,
      state: 'S',
      ppid: 1,
      pgrp: 123,
      sid: 123,
      tpgid: 123,
    });
    assert.deepEqual(parseStat('77 (tmux: server (1)) Z 5 6 7 0 -1'), { pid: 77, state: 'Z', ppid: 5, pgrp: 6, sid: 7, tpgid: -1 });
  });

  it('returns null for malformed lines', () => {
    assert.equal(parseStat(''), null);
    assert.equal(parseStat('123 bash S 1 2 3'), null);
    assert.equal(parseStat('123 (bash) S 1 2'), null);
    assert.equal(parseStat('x (bash) S 1 2 3'), null);
  });

  it('parses this very process from /proc', () => {
    const stat = parseStat(readFileSync('/proc/self/stat', 'utf8'));
    assert.equal(stat?.pid, process.pid);
    assert.equal(stat?.ppid, process.ppid);
  });
});

describe('killing the session of a pty', () => {
  it('kills the shell and everything it started, background jobs and orphans included', async (t) => {
    const shell = spawn('/bin/bash', ['--norc', '--noprofile', '-i'], {
      name: 'xterm',
      cols: 80,
      rows: 24,
      env: { ...process.env, HISTFILE: '/dev/null', PS1: '$ ' },
    });
    const sid = shell.pid;
    const exited = new Promise<void>((resolve) => shell.onExit(() => resolve()));
    t.after(() => {
      killSession(sid);
      shell.kill();
    });

    // Two background jobs (own process groups under job control), an orphan whose subshell
    // exits at once, and a background subshell with a child of its own.
    shell.write('sleep 300 & sleep 301 & (sleep 302 &) ; (sleep 303; true) &\r');
    const sleeping = await until(() => sleepers(sid), (pids) => pids.length === 4, 5000);
    assert.equal(sleeping.length, 4, `session ${sid} has ${sessionProcesses(sid).join(' ')}`);
    const before = sessionProcesses(sid);
    assert.ok(before.includes(sid), 'the shell itself belongs to its session');
    const groups = new Set([sid, ...sleeping].map((pid) => parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.pgrp));
    assert.ok(groups.size > 1, 'background jobs run in process groups of their own');

    const signalled = killSession(sid);
    for (const pid of [sid, ...sleeping]) assert.ok(signalled.includes(pid), `pid ${pid} was signalled`);

    const after = await until(() => sessionProcesses(sid), (pids) => pids.length === 0, 2000);
    assert.deepEqual(after, []);
    await exited;
  });

  it('refuses to signal init or an invalid session', () => {
    assert.deepEqual(killSession(1), []);
    assert.deepEqual(killSession(0), []);
    assert.deepEqual(killSession(-5), []);
    assert.deepEqual(killSession(1.5), []);
  });

  it('finds nobody in a session that does not exist', () => {
    assert.deepEqual(sessionProcesses(2 ** 30), []);
    assert.deepEqual(killSession(2 ** 30), []);
  });
});
