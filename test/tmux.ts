// A small tmux driver for end-to-end tests "as a person would": each test gets a private tmux
// server (-L socket), panes of a chosen size and environment, keys sent with send-keys and
// screens read with capture-pane, polled with a bounded wait.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The test process's environment without anything that would leak into the panes' locale. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'TMUX' || k === 'TMUX_PANE' || k === 'LANG' || k === 'LANGUAGE' || k.startsWith('LC_')) continue;
    env[k] = v;
  }
  return env;
}

export interface PaneOptions {
  cols: number;
  rows: number;
  /** Environment of the pane's shell. TERM is set inside the pane too: tmux overrides -e TERM. */
  env: Record<string, string>;
  cwd: string;
}

export class TmuxServer {
  readonly socket = `rh-e2e-${process.pid}-${randomBytes(4).toString('hex')}`;
  private started = false;

  async tmux(...args: string[]): Promise<string> {
    const { stdout } = await exec('tmux', ['-L', this.socket, ...args], { env: baseEnv(), timeout: 10_000 });
    return stdout;
  }

  /** A new detached session running an interactive bash with no rc files and no history file. */
  async pane(name: string, o: PaneOptions): Promise<Pane> {
    // HOME and remembered settings are the test's own folder: the shared shell runs no dotfiles of
    // the machine running the tests (a login shell here could wait on a lock a killed shell left).
    const env = { ...o.env, HOME: o.cwd, HISTFILE: '', PS1: '$ ', REMOTE_HELP_CONFIG_DIR: `${o.cwd}/config-${name}`, REMOTE_HELP_STATE_DIR: `${o.cwd}/state-${name}` };
    const envFlags = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const assigns = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ');
    await this.tmux('new-session', '-d', '-s', name, '-x', String(o.cols), '-y', String(o.rows), '-c', o.cwd, ...envFlags,
      `env ${assigns} bash --norc --noprofile`);
    this.started = true;
    await this.tmux('set-option', '-t', name, 'history-limit', '5000');
    const p = new Pane(this, name);
    await p.waitFor(/^\$/m, 5000); // the shell's prompt
    return p;
  }

  /** Ends the server and everything in its panes. Never throws. */
  async kill(): Promise<void> {
    if (!this.started) return;
    let socketPath = '';
    try {
      socketPath = (await this.tmux('display-message', '-p', '#{socket_path}')).trim();
      await this.tmux('kill-server');
    } catch {
      // already gone
    }
    // tmux leaves its socket file behind; it is ours, by its unique name.
    if (socketPath.endsWith(`/${this.socket}`)) fs.rmSync(socketPath, { force: true });
  }
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export class Pane {
  constructor(
    readonly server: TmuxServer,
    readonly name: string,
  ) {}

  /** Types text literally (no Enter). */
  async type(text: string): Promise<void> {
    await this.server.tmux('send-keys', '-t', this.name, '-l', '--', text);
  }

  /** Types a line and presses Enter. */
  async line(text: string): Promise<void> {
    if (text) await this.type(text);
    await this.key('Enter');
  }

  /** Presses named keys (Enter, F12, ...). */
  async key(...keys: string[]): Promise<void> {
    await this.server.tmux('send-keys', '-t', this.name, ...keys);
  }

  /** Sends raw bytes given in hex, e.g. '1b', '03'. */
  async bytes(...hex: string[]): Promise<void> {
    await this.server.tmux('send-keys', '-t', this.name, '-H', ...hex);
  }

  /** The pane's text, history included, wrapped lines joined. */
  async screen(): Promise<string> {
    return this.server.tmux('capture-pane', '-p', '-J', '-S', '-5000', '-t', this.name);
  }

  /** Polls the screen until pattern appears; returns the match. Fails with the screen shown. */
  async waitFor(pattern: RegExp | string, ms = 10_000): Promise<RegExpMatchArray> {
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    const deadline = Date.now() + ms;
    let text = '';
    for (;;) {
      text = await this.screen();
      const m = text.match(re);
      if (m) return m;
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${ms} ms waiting for ${re} in pane ${this.name}; it shows:\n${text}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
