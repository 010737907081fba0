// Framing for the handshake that runs on a raw TCP socket before SSH.
//
// Frame layout:
//
//   offset  size      field
//   0       2         LEN   u16 big-endian, counts TYPE + BODY, 1 <= LEN <= MAX_FRAME_LEN
//   2       1         TYPE  message type (see messages.ts)
//   3       LEN - 1   BODY
//
// Anyone can connect to the port, so the decoder must survive any bytes at
// all: it never throws, never buffers more than one frame, and reports the
// first bad header as an error value that it then keeps returning.
//
// The decoder is pull-based (push bytes, then call next() until null) so the
// handshake can stop exactly after its last frame and hand rest() - the bytes
// that follow, which already belong to SSH - to the SSH layer.

/** Largest LEN a frame may declare. INFO, the biggest message, needs under 500. */
export const MAX_FRAME_LEN = 2048;

const HEADER = 2;

export interface Frame {
  type: number;
  body: Buffer;
  /** The frame's exact bytes, header included: the transcript hash covers these. */
  raw: Buffer;
}

export type DecodeResult = { frame: Frame } | { error: string };

/** Build one frame. Throws only on programmer error (a body that cannot fit). */
export function encodeFrame(type: number, body: Buffer): Buffer {
  if (!Number.isInteger(type) || type < 0 || type > 0xff) {
    throw new RangeError(`frame type ${type} does not fit in one byte`);
  }
  const len = 1 + body.length;
  if (len > MAX_FRAME_LEN) {
    throw new RangeError(`frame body of ${body.length} bytes is larger than ${MAX_FRAME_LEN - 1}`);
  }
  const out = Buffer.alloc(HEADER + len);
  out.writeUInt16BE(len, 0);
  out.writeUInt8(type, 2);
  body.copy(out, 3);
  return out;
}

// Other protocols a person may point remote-help at by mistake. Their first
// bytes read as an absurd LEN (e.g. "GE" = 0x4745 = 18245), so they are only
// looked at when the very first header of the stream is already invalid.
const FOREIGN: ReadonlyArray<{ prefix: Buffer; error: string }> = [
  { prefix: Buffer.from('SSH-'), error: 'the other side speaks plain SSH, not remote-help' },
  ...['GET ', 'POST', 'HEAD', 'PUT ', 'DELE', 'OPTI', 'PATC', 'CONN', 'TRAC', 'PRI '].map((m) => ({
    prefix: Buffer.from(m),
    error: 'the other side sent an HTTP request, not remote-help',
  })),
  // TLS record: content type 22 (handshake), version major 3 (RFC 8446 section 5.1).
  {
    prefix: Buffer.from([0x16, 0x03]),
    error: 'the other side tried to start an encrypted web (TLS) connection, not remote-help',
  },
];

export class FrameDecoder {
  // Unconsumed bytes are buf[pos..]. A pushed chunk is kept by reference (no
  // copy) while frames are read out of it; only the tail of a partial frame,
  // at most MAX_FRAME_LEN + 1 bytes, is ever copied. A caller that pulls all
  // frames after each push therefore holds at most one chunk plus one frame.
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private failed: string | null = null;
  private framesSeen = 0;

  push(chunk: Buffer): void {
    if (this.failed !== null || chunk.length === 0) return;
    const left = this.buf.length - this.pos;
    this.buf = left === 0 ? chunk : Buffer.concat([this.buf.subarray(this.pos), chunk]);
    this.pos = 0;
  }

  /** The next complete frame, an error (sticky), or null when more bytes are needed. */
  next(): DecodeResult | null {
    if (this.failed !== null) return { error: this.failed };
    const avail = this.buf.length - this.pos;
    if (avail < HEADER) {
      this.compact();
      return null;
    }
    const len = this.buf.readUInt16BE(this.pos);
    if (len === 0 || len > MAX_FRAME_LEN) {
      if (this.framesSeen === 0) {
        const head = this.buf.subarray(this.pos, this.pos + 4);
        const foreign = FOREIGN.find((f) => startsLike(head, f.prefix));
        if (foreign) {
          // Wait until the whole signature is there, so the answer does not
          // depend on how the bytes were split into chunks.
          if (head.length < foreign.prefix.length) return null;
          return this.fail(foreign.error);
        }
      }
      return this.fail(
        len === 0
          ? 'a frame of length 0'
          : `frame of ${len} bytes is larger than the ${MAX_FRAME_LEN} allowed`,
      );
    }
    if (avail < HEADER + len) {
      this.compact();
      return null;
    }
    const raw = Buffer.from(this.buf.subarray(this.pos, this.pos + HEADER + len));
    this.pos += HEADER + len;
    this.framesSeen++;
    if (this.pos === this.buf.length) {
      this.buf = Buffer.alloc(0);
      this.pos = 0;
    }
    return { frame: { type: raw[2], body: raw.subarray(3), raw } };
  }

  /** The bytes pushed but not yet returned as frames. Does not consume them. */
  rest(): Buffer {
    return this.buf.subarray(this.pos);
  }

  private fail(error: string): DecodeResult {
    this.failed = error;
    return { error };
  }

  // Drop the consumed prefix of a big chunk once only a partial frame is left,
  // so an early chunk is not kept alive by a few trailing bytes.
  private compact(): void {
    if (this.pos > 0) {
      this.buf = Buffer.from(this.buf.subarray(this.pos));
      this.pos = 0;
    }
  }
}

/** True when the bytes so far agree with `prefix` (head may be shorter than it). */
function startsLike(head: Buffer, prefix: Buffer): boolean {
  const n = Math.min(head.length, prefix.length);
  return head.subarray(0, n).equals(prefix.subarray(0, n));
}
