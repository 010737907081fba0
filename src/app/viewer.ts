// The helper's side of the friend's shared desktop: a port on the helper's own loopback whose
// connections go through the verified SSH link to the friend's x11vnc (the one forward the
// friend's side allows), the session's VNC password in a file only the helper can read, and a
// VNC viewer started on it where one is installed and a display is there; else the exact command.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import type { EventLog } from '../events';
import type { ToHelper } from '../net/control';
import { listen } from '../net/tcp';
import { vncPasswdFile } from '../net/vncauth';
import { diesWithUs, processAlive, systemTool } from '../system';
import type { Teardown } from '../teardown';

/** Viewers that take a password file (TigerVNC's and TightVNC's vncviewer). */
const VIEWERS = ['vncviewer', 'xtigervncviewer', 'xtightvncviewer'];

/** Folders (with a password file) that a helper's program killed before its ending left here. */
function sweep(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    const pid = /^remote-help-viewer-(\d+)-/.exec(name)?.[1];
    if (pid && !processAlive(Number(pid))) fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

export interface HelperDesktop {
  /** What the friend's program said about its desktop. */
  update(msg: Extract<ToHelper, { t: 'desktop' }>): void;
  stop(): void;
}

export function helperDesktop(o: {
  /** A channel to the friend's loopback port over the live link (null while the link is down). */
  forward(port: number): Promise<Duplex> | null;
  say(text: string): void;
  events: EventLog;
  teardown: Teardown;
}): HelperDesktop {
  /** The desktop being opened or open (set at once: the same message told twice opens it once). */
  let open: { port: number; password: string; close(): void } | null = null;

  async function start(port: number, password: string) {
    let closed = false;
    const parts: (() => void)[] = [];
    const mine = { port, password, close: () => ((closed = true), parts.forEach((p) => p())) };
    open = mine;
    sweep();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `remote-help-viewer-${process.pid}-`));
    parts.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const passwd = path.join(dir, 'passwd');
    fs.writeFileSync(passwd, vncPasswdFile(password), { mode: 0o600 });
    const local = await listen(0, (link) => {
      const ch = o.forward(port);
      if (!ch) return void link.stream.destroy();
      ch.then((remote) => {
        remote.on('error', () => link.stream.destroy());
        link.stream.on('error', () => remote.destroy());
        link.stream.pipe(remote).pipe(link.stream);
        remote.on('close', () => link.stream.destroy());
        link.stream.on('close', () => remote.destroy());
      }, () => link.stream.destroy());
    }, '127.0.0.1');
    parts.unshift(() => local.close());
    if (closed) return mine.close(); // stopped while the port was being opened
    const viewerName = process.env.DISPLAY ? VIEWERS.find((v) => systemTool(v)) : undefined;
    let viewer: ChildProcess | null = null;
    if (viewerName) {
      viewer = spawn(...diesWithUs(systemTool(viewerName)!, ['-passwd', passwd, `127.0.0.1::${local.port}`]), { stdio: 'ignore' });
      viewer.on('error', () => {});
    }
    parts.unshift(() => viewer?.kill());
    o.events.emit('desktop', { shared: true, port: local.port, viewer: viewerName ?? null });
    o.say(viewer ? `Your friend shares their screen: it opens in ${viewerName}.`
      : `Screen: vncviewer 127.0.0.1::${local.port} (password ${password})`);
  }

  function stop() {
    open?.close();
    open = null;
  }
  o.teardown.add('desktop viewer', stop);

  return {
    update(msg) {
      if (msg.port === null) {
        if (open) o.events.emit('desktop', { shared: false });
        stop();
        if (msg.text) o.say(msg.text);
        return;
      }
      // The same desktop, told again on a link that came back: the viewer keeps going.
      if (open && open.port === msg.port && open.password === msg.password) return;
      stop();
      void start(msg.port, msg.password).catch((err: Error) => o.say(`The friend's screen could not be opened here: ${err.message}`));
    },
    stop,
  };
}
