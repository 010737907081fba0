// The helper's side of the shared shell: the helper's keyboard goes to the friend's pty over the
// SSH channel, its output comes back. `~.` after Enter leaves (the OpenSSH convention).
import type { Duplex, Readable, Writable } from 'node:stream';
import { escapeState, scanEscape } from './escape';

export type HelperEnd =
  | { kind: 'left' } // the helper typed ~.
  | { kind: 'exit'; code: number | null; signal: string | null; message: string | null }
  | { kind: 'closed' };

export interface HelperSessionOptions {
  channel: Duplex;
  input: Readable;
  output: Writable;
  onEnd(end: HelperEnd): void;
}

export function startHelperSession(o: HelperSessionOptions): { end(): void } {
  let esc = escapeState();
  let ended = false;
  let exit: HelperEnd | null = null;

  // Keys typed before the shared shell first speaks were typed at the code screens, not for the
  // shell: they are dropped, so nothing typed before the friend's Y can reach it.
  let live = false;
  const onInput = (chunk: Buffer) => {
    if (ended || !live) return;
    const r = scanEscape(esc, chunk);
    esc = r.state;
    if (r.passthrough.length > 0) o.channel.write(r.passthrough);
    if (r.disconnect) finish({ kind: 'left' });
  };
  const onOutput = (data: Buffer) => {
    live = true;
    o.output.write(data);
  };
  o.input.on('data', onInput);
  o.input.resume();
  o.channel.on('data', onOutput);
  o.channel.on('exit', (code: number | null, signal?: string, _dump?: boolean, message?: string) => {
    exit = { kind: 'exit', code, signal: signal ?? null, message: message ?? null };
  });
  o.channel.on('close', () => finish(exit ?? { kind: 'closed' }));

  function finish(end: HelperEnd) {
    if (ended) return;
    ended = true;
    o.input.off('data', onInput);
    o.channel.off('data', onOutput);
    o.onEnd(end);
  }
  return { end: () => finish({ kind: 'left' }) };
}
