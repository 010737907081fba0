// The pure parts of a copy through the shell: names quoted for sh, the lines the shell prints,
// the paths the helper types with escapes, and lines split out of a byte stream.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { dataLines, Lines, parseFileLine, probeCommand, sendCommand, shAssign, toolsFrom } from '../src/session/files-script';
import { typedPath } from '../src/session/helper-prompt';

test('a name of any bytes (but NUL) survives sh and dash exactly, and a plain one stays readable', () => {
  const names = [Buffer.from('notes.txt'), Buffer.from('a b\'c"d$e`f\\g%h'), Buffer.from('ends in a newline\n'), Buffer.from([0xe9, 0x0a, 0x27, 0x25, 0x5c]), Buffer.from('é ü ✓')];
  for (let i = 0; i < 20; i++) names.push(Buffer.from(randomBytes(12).map((b) => b || 1)));
  assert.equal(shAssign('f', Buffer.from('notes.txt')), 'f=\'notes.txt\'');
  for (const shell of ['bash', 'dash']) {
    for (const name of names) {
      const r = spawnSync(shell, ['-c', `${shAssign('f', name)}; printf '%s' "$f"`]);
      assert.equal(r.status, 0, `${shell}: ${r.stderr}`);
      assert.deepEqual(r.stdout, name, `${shell}: ${JSON.stringify(name.toString('latin1'))}`);
    }
  }
});

test('the lines a copy prints are read for its id only, and nothing in the echo of its commands counts', () => {
  const id = '1a2b3c4d';
  const sha = 'ab'.repeat(32);
  assert.deepEqual(parseFileLine(`remote-help-file ${id} ready /usr/bin/base64 /usr/bin/sha256sum /usr/bin/head /usr/bin/mktemp /bin/gzip\r`, id),
    { word: 'ready', tools: { gzip: true, tar: false } });
  assert.deepEqual(parseFileLine(`remote-help-file ${id} ready /usr/bin/base64`, id), { word: 'ready', tools: null });
  assert.deepEqual(parseFileLine(`remote-help-file ${id} sent 2 256 ${sha} /root/a b`, id), { word: 'sent', suffix: 2, size: 256, sha256: sha, path: '/root/a b' });
  assert.deepEqual(parseFileLine(`remote-help-file ${id} begin 10 755 dir gzip`, id), { word: 'begin', size: 10, mode: 0o755, kind: 'dir', gzip: true });
  assert.deepEqual(parseFileLine(`#AAEC^C\r\rremote-help-file ${id} stopped`, id), { word: 'stopped' }, 'after a line cut by Ctrl-C');
  assert.deepEqual(parseFileLine(`remote-help-file ${id} failed too-big 12`, id), { word: 'failed', why: 'too-big 12' });
  assert.equal(parseFileLine(`remote-help-file 99999999 stopped`, id), null, 'another copy');
  assert.equal(parseFileLine(`remote-help-file ${id} end nothex`, id), null);
  assert.equal(parseFileLine(`remote-help-file ${id} begin x 755 file gzip`, id), null);
  for (const typed of [probeCommand(id), sendCommand({ id, to: Buffer.from('.'), name: Buffer.from('x'), mode: 0o644, sha256: sha, lines: 3, gzip: false })])
    for (const line of typed.split('\r')) assert.equal(parseFileLine(`$ ${line}`, id), null, line);
});

test('typed paths: \\n \\t \\\\ \\xHH \\NNN stand for bytes; a lone backslash is kept', () => {
  assert.deepEqual(typedPath(Buffer.from('a\\nb\\tc\\\\d\\xe9e\\047f\\')), Buffer.from([0x61, 0x0a, 0x62, 0x09, 0x63, 0x5c, 0x64, 0xe9, 0x65, 0x27, 0x66, 0x5c]));
  assert.deepEqual(typedPath(Buffer.from('plain/path.txt')), Buffer.from('plain/path.txt'));
  assert.deepEqual(typedPath(Buffer.from('\\q')), Buffer.from('\\q'));
});

test('data lines: "#" and at most 2048 base64 characters each, that decode back; lines split from a stream at any point', () => {
  const data = randomBytes(10_000);
  const lines = dataLines(data);
  assert.ok(lines.length === 7 && lines.every((l) => /^#[A-Za-z0-9+/=]{1,2048}\r$/.test(l)));
  assert.deepEqual(Buffer.from(lines.map((l) => l.slice(1, -1)).join(''), 'base64'), data);
  assert.deepEqual(dataLines(Buffer.alloc(0)), ['#\r']);
  assert.ok(toolsFrom('/usr/bin/base64 /usr/bin/sha256sum /usr/bin/head /usr/bin/mktemp /usr/bin/tar')?.tar);
  const stream = Buffer.from('one\r\ntwo\nthree-long-line\nfour');
  for (let cut = 0; cut <= stream.length; cut++) {
    const got: string[] = [];
    const l = new Lines(8);
    for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) l.push(part, (line, overlong) => got.push(`${line.toString()}${overlong ? '…' : ''}`));
    assert.deepEqual(got, ['one\r', 'two', 'three-lo…'], `cut at ${cut}`);
  }
});
