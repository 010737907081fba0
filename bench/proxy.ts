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
  // One queue per direction, sent in order by one timer at a time: a timer per piece could fire
  // out of order on a busy loop (each is counted from the loop's cached clock), and reordered
  // bytes are a broken TCP stream, not a slow one.
  const fifo: { at: number; piece: Buffer }[] = [];
  let timer: NodeJS.Timeout | null = null;
  const pump = () => {
    if (timer) timers.delete(timer);
    timer = null;
    while (fifo.length > 0 && fifo[0].at <= now()) {
      const { piece } = fifo.shift()!;
      queued -= piece.length;
      if (!dst.destroyed) dst.write(piece);
    }
    if (queued <= link.queueBytes && src.isPaused()) src.resume();
    if (fifo.length > 0) {
      timer = setTimeout(pump, Math.max(0, fifo[0].at - now()));
      timers.add(timer);
    }
  };
  src.on('data', (chunk: Buffer) => {
    const t = now();
    for (let i = 0; i < chunk.length; i += MTU) {
      const piece = chunk.subarray(i, i + MTU);
      nextFree = Math.max(t, nextFree) + (piece.length * 1000) / link.rateBytesPerSec;
      lastAt = nextFree + link.oneWayDelayMs;
      queued += piece.length;
      fifo.push({ at: lastAt, piece });
    }
    if (!timer) pump();
    if (queued > link.queueBytes) src.pause();
  });
  src.on('close', () => {
    const t = setTimeout(() => dst.destroy(), Math.max(0, lastAt - now()) + 1);
    timers.add(t);
  });
}
