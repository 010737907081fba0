// A TCP proxy on loopback: plain (to time the first connection) or a poor link (rate, delay and a
// router queue, shaped in user space).
import * as net from 'node:net';
import { now, onCleanup } from './processes';

export interface Link {
  rateBytesPerSec: number;
  oneWayDelayMs: number;
  /** Most bytes held per direction (a router queue) before the sender is paused. */
  queueBytes: number;
}

export interface Proxy {
  port: number;
  firstAccept: number; // performance.now() of the first accepted connection, 0 before
  close(): void;
}

export async function startProxy(target: number, link: Link | null): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const proxy: Proxy = { port: 0, firstAccept: 0, close: () => {} };
  const server = net.createServer({ noDelay: true } as net.ServerOpts, (a) => {
    if (!proxy.firstAccept) proxy.firstAccept = now();
    a.setNoDelay(true);
    const b = net.connect({ port: target, host: '127.0.0.1', noDelay: true });
    sockets.add(a);
    sockets.add(b);
    const bothGo = () => {
      a.destroy();
      b.destroy();
    };
    a.on('error', bothGo);
    b.on('error', bothGo);
    if (!link) {
      a.pipe(b);
      b.pipe(a);
      a.on('close', bothGo);
      b.on('close', bothGo);
      return;
    }
    shape(a, b, link, timers);
    shape(b, a, link, timers);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.port = (server.address() as net.AddressInfo).port;
  proxy.close = () => {
    for (const t of timers) clearTimeout(t);
    for (const s of sockets) s.destroy();
    server.close();
  };
  onCleanup(proxy.close);
  return proxy;
}

function shape(src: net.Socket, dst: net.Socket, link: Link, timers: Set<NodeJS.Timeout>) {
  let nextFree = 0;
  let queued = 0;
  let lastAt = 0;
  const MTU = 1448;
  src.on('data', (chunk: Buffer) => {
    const t = now();
    for (let i = 0; i < chunk.length; i += MTU) {
      const piece = chunk.subarray(i, i + MTU);
      nextFree = Math.max(t, nextFree) + (piece.length * 1000) / link.rateBytesPerSec;
      const at = nextFree + link.oneWayDelayMs;
      lastAt = at;
      queued += piece.length;
      const timer = setTimeout(() => {
        timers.delete(timer);
        queued -= piece.length;
        if (!dst.destroyed) dst.write(piece);
        if (queued <= link.queueBytes && src.isPaused()) src.resume();
      }, Math.max(0, at - t));
      timers.add(timer);
    }
    if (queued > link.queueBytes) src.pause();
  });
  src.on('close', () => {
    const timer = setTimeout(() => dst.destroy(), Math.max(0, lastAt - now()) + 1);
    timers.add(timer);
  });
}
