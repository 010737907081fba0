import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeState, scanEscape, type EscapeState } from '../src/session/escape';

interface Fed {
  passthrough: string;
  disconnect: boolean;
  state: EscapeState;
}

function feed(chunks: string[], start: EscapeState = escapeState()): Fed {
  let state = start;
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    const r = scanEscape(state, Buffer.from(chunk, 'latin1'));
    out.push(r.passthrough);
    state = r.state;
    if (r.disconnect) return { passthrough: Buffer.concat(out).toString('latin1'), disconnect: true, state };
  }
  return { passthrough: Buffer.concat(out).toString('latin1'), disconnect: false, state };
}

/** Every cut of input into two and into three chunks. */
function* splits(input: string): Generator<string[]> {
  for (let a = 0; a <= input.length; a++) {
    yield [input.slice(0, a), input.slice(a)];
    for (let b = a; b <= input.length; b++) yield [input.slice(0, a), input.slice(a, b), input.slice(b)];
  }
}

function assertEverySplit(input: string, want: { passthrough: string; disconnect: boolean }): void {
  for (const chunks of splits(input)) {
    const got = feed(chunks);
    assert.equal(got.disconnect, want.disconnect, JSON.stringify(chunks));
    assert.equal(got.passthrough, want.passthrough, JSON.stringify(chunks));
  }
}

describe("helper's ~. escape", () => {
  it('disconnects on ~. as the very first input', () => {
    assertEverySplit('~.', { passthrough: '', disconnect: true });
  });

  it('disconnects on ~. after Enter (CR), passing what came before, split at every position', () => {
    assertEverySplit('ls\r~.echo gone', { passthrough: 'ls\r', disconnect: true });
  });

  it('disconnects on ~. after LF', () => {
    assertEverySplit('ls\n~.', { passthrough: 'ls\n', disconnect: true });
  });

  it('sends one ~ for ~~ at line start and is then no longer at line start', () => {
    assertEverySplit('~~.', { passthrough: '~.', disconnect: false });
    assertEverySplit('\r~~x', { passthrough: '\r~x', disconnect: false });
  });

  it('sends ~ and the next byte for ~ followed by anything else', () => {
    assertEverySplit('~x', { passthrough: '~x', disconnect: false });
    assertEverySplit('~/bin', { passthrough: '~/bin', disconnect: false });
  });

  it('passes ~. that is not at line start', () => {
    assertEverySplit('a~.', { passthrough: 'a~.', disconnect: false });
    assertEverySplit('cd ~.config', { passthrough: 'cd ~.config', disconnect: false });
  });

  it('still sees a line start after ~ then Enter', () => {
    assertEverySplit('~\r~.', { passthrough: '~\r', disconnect: true });
  });

  it('holds a ~ at line start until the next byte arrives', () => {
    const r = scanEscape(escapeState(), Buffer.from('ls\r~'));
    assert.equal(r.passthrough.toString(), 'ls\r');
    assert.deepEqual(r.state, { atLineStart: true, pendingTilde: true });
  });

  it('passes a chunk without a tilde as is and tracks the line start from its last byte', () => {
    const chunk = Buffer.from('make\r');
    const r = scanEscape({ atLineStart: false, pendingTilde: false }, chunk);
    assert.equal(r.passthrough, chunk);
    assert.equal(r.state.atLineStart, true);
    assert.equal(scanEscape(r.state, Buffer.from('x')).state.atLineStart, false);
    assert.equal(scanEscape(r.state, Buffer.alloc(0)).state.atLineStart, true);
  });
});
