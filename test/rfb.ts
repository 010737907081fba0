// A small RFB 3.8 client (the VNC protocol, RFC 6143) for tests: it logs in to a VNC server over
// any byte stream, with VNC Authentication when given a password, reads the whole framebuffer in
// Raw encoding as RGB, and sends pointer and key events. Every wait a caller makes is bounded and
// fails with a message that says what it was waiting for.
//
// What rfbConnect resolves with (RfbClient):
//   version         the server's ProtocolVersion line without its newline, e.g. "RFB 003.008"
//   securityTypes   the security types the server offered, in its order (1 None, 2 VNC auth, ...)
//   securityUsed    the one this client chose: 2 when given a password, else 1
//   width, height   the framebuffer's size from ServerInit
//   name            the desktop name from ServerInit
//   serverFormat    the server's own pixel format from ServerInit (the client asks for another)
//   framebuffer()   asks for a full, non-incremental update and resolves with the whole screen as
//                   RGB, 3 bytes a pixel, row by row (width × height × 3 bytes), once updates that
//                   came after the request have covered every pixel
//   pointer(x, y, buttons)   a PointerEvent (buttons: bit 0 left, 1 middle, 2 right, ...)
//   key(keysym, down)        a KeyEvent (an X keysym, e.g. 0x61 for "a", 0xff0d for Return)
//   bells, cutTexts what else the server sent: how many Bells, the texts of ServerCutText
//   close()         ends the connection
// Like a viewer, the client reads what the server sends all the time and keeps one incremental
// update request outstanding: it asks for the next change as soon as an update has come. That
// matters with x11vnc 0.9.16: after it had sent an update and no request was outstanding, it was
// seen here to apply a click only about 5 s later (in most tries), and to leave its copy of the
// screen unrefreshed for as long. A wait that times out leaves the connection as it was.
// Login failures reject with RfbRefused, which carries the server's reason when it gave one.
import type { Duplex } from 'node:stream';
import { vncAuthResponse } from '../src/net/vncauth';

export const SECURITY_NONE = 1;
export const SECURITY_VNC = 2;

export interface PixelFormat {
  bitsPerPixel: number;
  depth: number;
  bigEndian: boolean;
  trueColour: boolean;
  redMax: number;
  greenMax: number;
  blueMax: number;
  redShift: number;
  greenShift: number;
  blueShift: number;
}

export interface RfbClient {
  version: string;
  securityTypes: number[];
  securityUsed: number;
  width: number;
  height: number;
  name: string;
  serverFormat: PixelFormat;
  framebuffer(ms?: number): Promise<Buffer>;
  pointer(x: number, y: number, buttons: number): void;
  key(keysym: number, down: boolean): void;
  bells: number;
  cutTexts: string[];
  close(): void;
}

export interface RfbOptions {
  /** Use VNC Authentication (type 2) with this password; without one, only None (type 1) is taken. */
  password?: string;
  /** ClientInit's shared flag: true lets other clients stay connected (the default here). */
  shared?: boolean;
  /** Bound on the whole login, from the first byte to ServerInit (default 10 s). */
  timeoutMs?: number;
  /** Take the pointer's shape on its own (RichCursor), as real viewers do: the server then keeps
   * the pointer out of the pixels it sends. */
  cursorShape?: boolean;
}

/** The server turned the login down (no common security type, wrong password, ...). */
export class RfbRefused extends Error {
  constructor(message: string, readonly reason: string) {
    super(reason ? `${message}: ${reason}` : message);
    this.name = 'RfbRefused';
  }
}

// What this client asks the server for: 32 bits a pixel, depth 24, little-endian true colour
// with red, green and blue in bits 16-23, 8-15 and 0-7 (so the bytes come as B, G, R, unused).
const OUR_FORMAT: PixelFormat = {
  bitsPerPixel: 32, depth: 24, bigEndian: false, trueColour: true,
  redMax: 255, greenMax: 255, blueMax: 255, redShift: 16, greenShift: 8, blueShift: 0,
};

const ENCODING_RAW = 0;
/** RichCursor pseudo-encoding: the pointer's shape on its own, never drawn into the pixels. */
const ENCODING_RICH_CURSOR = -239;

/** Reads exact byte counts from a stream, each read bounded by a deadline. */
class Reader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private gone: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(stream: Duplex) {
    stream.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.buffered += d.length;
      this.wake?.();
    });
    const end = (why: string) => () => {
      this.gone ??= new Error(why);
      this.wake?.();
    };
    stream.on('end', end('the server closed the connection'));
    stream.on('close', end('the connection closed'));
    stream.on('error', (e: Error) => {
      this.gone ??= new Error(`connection error: ${e.message}`);
      this.wake?.();
    });
  }

  /** Resolves with the next `n` bytes; rejects when the deadline (Infinity: none) passes or the
   * stream ends first. */
  async read(n: number, what: string, deadline: number): Promise<Buffer> {
    while (this.buffered < n) {
      if (this.gone) throw new Error(`${this.gone.message} while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what} (have ${this.buffered} of ${n} bytes)`);
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(left) ? setTimeout(resolve, left) : undefined;
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  async u8(what: string, deadline: number) {
    return (await this.read(1, what, deadline)).readUInt8(0);
  }

  async u32(what: string, deadline: number) {
    return (await this.read(4, what, deadline)).readUInt32BE(0);
  }

  /** A u32 length and that many bytes of text (reasons, names, cut text: Latin-1 in RFB 3.8). */
  async text(what: string, deadline: number, limit = 1 << 20) {
    const length = await this.u32(`the length of ${what}`, deadline);
    if (length > limit) throw new Error(`${what} claims ${length} bytes, more than ${limit}`);
    return (await this.read(length, what, deadline)).toString('latin1');
  }
}

function parsePixelFormat(b: Buffer): PixelFormat {
  return {
    bitsPerPixel: b[0], depth: b[1], bigEndian: b[2] !== 0, trueColour: b[3] !== 0,
    redMax: b.readUInt16BE(4), greenMax: b.readUInt16BE(6), blueMax: b.readUInt16BE(8),
    redShift: b[10], greenShift: b[11], blueShift: b[12],
  };
}

function encodePixelFormat(f: PixelFormat): Buffer {
  const b = Buffer.alloc(16);
  b[0] = f.bitsPerPixel;
  b[1] = f.depth;
  b[2] = f.bigEndian ? 1 : 0;
  b[3] = f.trueColour ? 1 : 0;
  b.writeUInt16BE(f.redMax, 4);
  b.writeUInt16BE(f.greenMax, 6);
  b.writeUInt16BE(f.blueMax, 8);
  b[10] = f.redShift;
  b[11] = f.greenShift;
  b[12] = f.blueShift;
  return b;
}

/** ProtocolVersion: the server's 12-byte line; this client answers 3.8 or gives up. */
async function exchangeVersion(stream: Duplex, r: Reader, deadline: number): Promise<string> {
  const line = (await r.read(12, 'the server\'s protocol version', deadline)).toString('latin1');
  const m = /^RFB (\d{3})\.(\d{3})\n$/.exec(line);
  if (!m) throw new Error(`not an RFB server: it began with ${JSON.stringify(line)}`);
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major < 3 || (major === 3 && minor < 8)) throw new Error(`the server speaks ${line.trim()}; this client speaks only RFB 3.8`);
  stream.write('RFB 003.008\n');
  return line.slice(0, 11);
}

/** Security: the offered types, our choice, VNC Authentication if chosen, and SecurityResult. */
async function negotiateSecurity(stream: Duplex, r: Reader, password: string | undefined, deadline: number) {
  const count = await r.u8('the number of security types', deadline);
  if (count === 0) throw new RfbRefused('the server offered no security type', await r.text('the server\'s reason', deadline));
  const types = [...(await r.read(count, 'the security types', deadline))];
  const wanted = password === undefined ? SECURITY_NONE : SECURITY_VNC;
  if (!types.includes(wanted)) {
    stream.destroy();
    throw new RfbRefused(`the server offers security types [${types.join(', ')}], not ${wanted}`, '');
  }
  stream.write(Buffer.from([wanted]));
  if (wanted === SECURITY_VNC) {
    const challenge = await r.read(16, 'the VNC authentication challenge', deadline);
    stream.write(vncAuthResponse(password!, challenge));
  }
  const result = await r.u32('the security result', deadline);
  if (result !== 0) {
    // RFB 3.8 follows a failure with a reason string; a server that just hangs up gave none.
    const reason = await r.text('the reason for the failure', deadline).catch(() => '');
    throw new RfbRefused(`the server refused the login (security result ${result})`, reason);
  }
  return { types, used: wanted };
}

/** Opens an RFB 3.8 session on `stream`; resolves once ServerInit is read and the pixel format and
 * encodings are set. On any failure the stream is destroyed. */
export async function rfbConnect(stream: Duplex, o: RfbOptions = {}): Promise<RfbClient> {
  const r = new Reader(stream);
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  try {
    const version = await exchangeVersion(stream, r, deadline);
    const security = await negotiateSecurity(stream, r, o.password, deadline);
    stream.write(Buffer.from([o.shared === false ? 0 : 1]));
    const init = await r.read(20, 'ServerInit', deadline);
    const name = await r.text('the desktop name', deadline);
    const width = init.readUInt16BE(0);
    const height = init.readUInt16BE(2);
    setPixelFormat(stream, OUR_FORMAT);
    setEncodings(stream, o.cursorShape ? [ENCODING_RAW, ENCODING_RICH_CURSOR] : [ENCODING_RAW]);
    return session(stream, r, {
      version, securityTypes: security.types, securityUsed: security.used,
      width, height, name, serverFormat: parsePixelFormat(init.subarray(4, 20)),
    });
  } catch (e) {
    stream.destroy();
    throw e;
  }
}

function setPixelFormat(stream: Duplex, f: PixelFormat) {
  stream.write(Buffer.concat([Buffer.from([0, 0, 0, 0]), encodePixelFormat(f)]));
}

function setEncodings(stream: Duplex, encodings: number[]) {
  const b = Buffer.alloc(4 + 4 * encodings.length);
  b[0] = 2;
  b.writeUInt16BE(encodings.length, 2);
  encodings.forEach((e, i) => b.writeInt32BE(e, 4 + 4 * i));
  stream.write(b);
}

type Known = Pick<RfbClient, 'version' | 'securityTypes' | 'securityUsed' | 'width' | 'height' | 'name' | 'serverFormat'>;

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Someone waiting for updates: told of each one as it is applied, or of the end. */
interface Waiter {
  update(rects: Rect[]): void;
  fail(e: Error): void;
}

function session(stream: Duplex, r: Reader, known: Known): RfbClient {
  const { width, height } = known;
  const rgb = Buffer.alloc(width * height * 3);
  const waiters = new Set<Waiter>();
  let failure: Error | null = null;

  /** Copies a Raw rectangle of our pixel format (B, G, R, unused) into the RGB framebuffer. */
  function paintRaw({ x, y, w, h }: Rect, pixels: Buffer) {
    for (let row = 0; row < h; row++) {
      for (let col = 0; col < w; col++) {
        const s = (row * w + col) * 4;
        const d = ((y + row) * width + (x + col)) * 3;
        rgb[d] = pixels[s + 2];
        rgb[d + 1] = pixels[s + 1];
        rgb[d + 2] = pixels[s];
      }
    }
  }

  function request(incremental: boolean) {
    const b = Buffer.alloc(10);
    b[0] = 3; // FramebufferUpdateRequest for the whole screen: x = y = 0, width, height
    b[1] = incremental ? 1 : 0;
    b.writeUInt16BE(width, 6);
    b.writeUInt16BE(height, 8);
    stream.write(b);
  }

  /** Reads one FramebufferUpdate (its message type already read) into the framebuffer. */
  async function readUpdate(): Promise<Rect[]> {
    const head = await r.read(3, 'a FramebufferUpdate header', Infinity);
    const count = head.readUInt16BE(1);
    const rects: Rect[] = [];
    for (let i = 0; i < count; i++) {
      const rh = await r.read(12, `rectangle ${i + 1} of ${count}`, Infinity);
      const rect = { x: rh.readUInt16BE(0), y: rh.readUInt16BE(2), w: rh.readUInt16BE(4), h: rh.readUInt16BE(6) };
      const encoding = rh.readInt32BE(8);
      if (encoding === ENCODING_RICH_CURSOR) {
        // The pointer's pixels (our format: 4 bytes each) and its bit mask, as a real viewer gets them.
        await r.read(rect.w * rect.h * 4 + ((rect.w + 7) >> 3) * rect.h, 'the pointer\'s shape', Infinity);
        continue;
      }
      if (encoding !== ENCODING_RAW) throw new Error(`the server sent encoding ${encoding}; only Raw (0) was asked for`);
      if (rect.x + rect.w > width || rect.y + rect.h > height) throw new Error(`rectangle ${JSON.stringify(rect)} lies outside the ${width}x${height} screen`);
      paintRaw(rect, await r.read(rect.w * rect.h * 4, `the pixels of a ${rect.w}x${rect.h} rectangle`, Infinity));
      rects.push(rect);
    }
    return rects;
  }

  /** Reads server messages for as long as the connection lasts. After each update it asks for the
   * next change at once, as viewers do. */
  async function readForever(): Promise<never> {
    request(true);
    for (;;) {
      const type = await r.u8('a server message', Infinity);
      if (type === 0) {
        const rects = await readUpdate();
        request(true);
        for (const w of [...waiters]) w.update(rects);
      } else if (type === 1) {
        // SetColourMapEntries: padding, first colour, count, then 6 bytes a colour. Ours is true colour.
        const head = await r.read(5, 'a SetColourMapEntries header', Infinity);
        await r.read(head.readUInt16BE(3) * 6, 'colour map entries', Infinity);
      } else if (type === 2) client.bells++;
      else if (type === 3) {
        await r.read(3, 'ServerCutText padding', Infinity);
        client.cutTexts.push(await r.text('the server\'s cut text', Infinity));
      } else throw new Error(`unknown server message type ${type}`);
    }
  }

  /** Waits, at most `ms`, until `done` (told of each update) returns a value. */
  function waitFor<T>(what: string, ms: number, done: (rects: Rect[]) => T | undefined): Promise<T> {
    if (failure) return Promise.reject(new Error(`the RFB connection is gone (${failure.message})`));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      const waiter: Waiter = {
        update(rects) {
          const v = done(rects);
          if (v === undefined) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(v);
        },
        fail(e) {
          clearTimeout(timer);
          waiters.delete(waiter);
          reject(new Error(`${e.message} while waiting for ${what}`));
        },
      };
      waiters.add(waiter);
    });
  }

  const client: RfbClient = {
    ...known,
    bells: 0,
    cutTexts: [],
    framebuffer(ms = 10_000) {
      const covered = new Uint8Array(width * height);
      const whole = waitFor('a full framebuffer update', ms, (rects) => {
        for (const { x, y, w, h } of rects) for (let row = y; row < y + h; row++) covered.fill(1, row * width + x, row * width + x + w);
        return covered.includes(0) ? undefined : Buffer.from(rgb);
      });
      request(false);
      return whole;
    },
    pointer(x, y, buttons) {
      const b = Buffer.alloc(6);
      b[0] = 5;
      b[1] = buttons;
      b.writeUInt16BE(x, 2);
      b.writeUInt16BE(y, 4);
      stream.write(b);
    },
    key(keysym, down) {
      const b = Buffer.alloc(8);
      b[0] = 4;
      b[1] = down ? 1 : 0;
      b.writeUInt32BE(keysym, 4);
      stream.write(b);
    },
    close() {
      stream.destroy();
    },
  };
  readForever().catch((e: Error) => {
    failure = e;
    stream.destroy();
    for (const w of [...waiters]) w.fail(e);
  });
  return client;
}
