// A TCP proxy on loopback: plain (to time the first connection) or a poor link (rate, delay and a
// router queue, shaped in user space). A poor link also counts the one-way trips a connection
// waited on (legs(), below) and can be cut (cut(): every live connection dropped at once, new ones
// still accepted, as when a Wi-Fi link comes back).
//
// Counting trips: a Lamport clock per connection. Every chunk that arrives from one side is
// stamped one more than the highest stamp delivered to that side so far (0 before anything was
// delivered to it); a chunk's stamp is the length of the longest chain "A sends, B receives and
// answers, A receives and answers, ..." that could have led to it. legs() is the highest stamp
// delivered so far on the newest connection: the one-way trips on the critical path, and half of
// it the round trips. Chunks both sides send without waiting for each other (the two SSH version
// lines, a KEXINIT sent at once) share a stamp, so pipelining is not counted as waiting. The TCP
// handshake is not counted (the proxy accepts and connects on loopback at once), for either
// program. A side that answers a timer rather than its peer is still stamped as if it answered.
// The phone call (the harness typing the code it read on one side at the other, phone()) is a
// free hop: it merges the two sides' clocks but adds no trip.
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
  /** Connections accepted so far. */
  accepted(): number;
  /** One-way trips on the critical path of the newest connection so far (poor links only). */
  legs(): number;
  /** The harness told one side what the other showed (the code read aloud, "press y"): on the
   * newest connection both sides' clocks take the higher, as if the phone were part of it. */
  phone(): void;
  /** Drops every live connection (both sockets, bytes on the way lost); keeps accepting. */
  cut(): void;
  close(): void;
}

/** The Lamport clock of one connection: the highest stamp delivered to each side. */
class Trips {
  private readonly heard: Map<net.Socket, number>;
  max = 0;
  constructor(sides: net.Socket[]) {
    this.heard = new Map(sides.map((s) => [s, 0]));
  }
  stamp(from: net.Socket): number {
    return (this.heard.get(from) ?? 0) + 1;
  }
  delivered(to: net.Socket, stamp: number) {
    this.heard.set(to, Math.max(this.heard.get(to) ?? 0, stamp));
    this.max = Math.max(this.max, stamp);
  }
  /** What one side showed was carried to the other by the phone (no trip): both take the
   * higher clock. */
  phone() {
    const top = Math.max(0, ...this.heard.values());
    for (const s of this.heard.keys()) this.heard.set(s, top);
  }
}

export async function startProxy(target: number, link: Link | null): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let accepted = 0;
  let newest: Trips | null = null;
  const proxy: Proxy = {
    port: 0, firstAccept: 0, accepted: () => accepted, legs: () => newest?.max ?? 0, phone: () => newest?.phone(), cut: () => {}, close: () => {},
  };
  const server = net.createServer({ noDelay: true } as net.ServerOpts, (a) => {
    if (!proxy.firstAccept) proxy.firstAccept = now();
    accepted++;
    a.setNoDelay(true);
    const b = net.connect({ port: target, host: '127.0.0.1', noDelay: true });
    sockets.add(a);
    sockets.add(b);
    const bothGo = () => {
      a.destroy();
      b.destroy();
      sockets.delete(a);
      sockets.delete(b);
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
    const trips = (newest = new Trips([a, b]));
    shape(a, b, link, timers, trips);
    shape(b, a, link, timers, trips);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.port = (server.address() as net.AddressInfo).port;
  proxy.cut = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  proxy.close = () => {
    for (const t of timers) clearTimeout(t);
    proxy.cut();
    server.close();
  };
  onCleanup(proxy.close);
  return proxy;
}

function shape(src: net.Socket, dst: net.Socket, link: Link, timers: Set<NodeJS.Timeout>, trips: Trips) {
  let nextFree = 0;
  let queued = 0;
  let lastAt = 0;
  const MTU = 1448;
  // One queue per direction, sent in order by one timer at a time: a timer per piece could fire
  // out of order on a busy loop (each is counted from the loop's cached clock), and reordered
  // bytes are a broken TCP stream, not a slow one.
  const fifo: { at: number; piece: Buffer; stamp: number }[] = [];
  let timer: NodeJS.Timeout | null = null;
  const pump = () => {
    if (timer) timers.delete(timer);
    timer = null;
    while (fifo.length > 0 && fifo[0].at <= now()) {
      const { piece, stamp } = fifo.shift()!;
      queued -= piece.length;
      if (dst.destroyed) continue;
      dst.write(piece);
      trips.delivered(dst, stamp);
    }
    if (queued <= link.queueBytes && src.isPaused()) src.resume();
    if (fifo.length > 0) {
      timer = setTimeout(pump, Math.max(0, fifo[0].at - now()));
      timers.add(timer);
    }
  };
  src.on('data', (chunk: Buffer) => {
    const t = now();
    const stamp = trips.stamp(src);
    for (let i = 0; i < chunk.length; i += MTU) {
      const piece = chunk.subarray(i, i + MTU);
      nextFree = Math.max(t, nextFree) + (piece.length * 1000) / link.rateBytesPerSec;
      lastAt = nextFree + link.oneWayDelayMs;
      queued += piece.length;
      fifo.push({ at: lastAt, piece, stamp });
    }
    if (!timer) pump();
    if (queued > link.queueBytes) src.pause();
  });
  src.on('close', () => {
    const t = setTimeout(() => dst.destroy(), Math.max(0, lastAt - now()) + 1);
    timers.add(t);
  });
}
