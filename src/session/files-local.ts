// The helper's own files in a copy through the shell (helper-files.ts): paths shown as the helper
// can read them, what is sent read here, and what is fetched written here only once it is whole
// and checked, under a temporary name first.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FileLine } from './files-script';

/** A copy that ended before its end, with what the helper reads. */
export class Stopped extends Error {}

/** A path as the helper can read it: UTF-8 where it is, octal escapes elsewhere. */
export function showPath(p: Buffer): string {
  const text = p.toString('utf8');
  // eslint-disable-next-line no-control-regex
  return Buffer.from(text).equals(p) ? text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`)
    : [...p].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`)).join('');
}

export const basename = (p: Buffer): Buffer => {
  let end = p.length;
  while (end > 1 && p[end - 1] === 0x2f) end--;
  const slash = p.lastIndexOf(0x2f, end - 1);
  return p.subarray(slash + 1, end);
};

/** What the helper reads when the shell stopped or failed a copy. */
export function lastWords(m: Extract<FileLine, { word: 'stopped' | 'failed' }>): string {
  return m.word === 'stopped' ? 'The copy was stopped in the shell (Ctrl-C); nothing was left half written.'
    : `The copy failed on your friend's computer (${m.why}); nothing was left half written.`;
}

export function statOf(p: Buffer): fs.Stats {
  try {
    return fs.statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Stopped(code === 'ENOENT' ? `There is no ${showPath(p)} here: nothing was sent.` : `${showPath(p)} cannot be read here (${code ?? (e as Error).message}).`);
  }
}

export const size = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} kB` : `${Math.round(n)} bytes`);

/** Writes what a fetch brought where the helper said: a file under a temporary name first, then
 * moved in place; a folder unpacked by tar into a temporary folder, then moved in place. */
export function save(where: Buffer, data: Buffer, begin: Extract<FileLine, { word: 'begin' }>) {
  const dir = path.dirname(where.toString('latin1'));
  const temp = Buffer.from(path.join(dir, `.remote-help-${randomBytes(4).toString('hex')}`), 'latin1');
  try {
    if (begin.kind === 'file') {
      fs.writeFileSync(temp, data, { mode: 0o600 });
      fs.chmodSync(temp, begin.mode & 0o777);
      fs.renameSync(temp, where);
      return;
    }
    fs.mkdirSync(temp, { mode: 0o700 });
    const tar = spawnSync('tar', ['-xf', '-', '-C', temp.toString('latin1'), '--no-same-owner', '--no-same-permissions'], { input: data, stdio: ['pipe', 'ignore', 'pipe'] });
    if (tar.status !== 0) throw new Error(`tar could not unpack it: ${tar.stderr?.toString().trim().split('\n')[0] ?? tar.error?.message}`);
    const [top] = fs.readdirSync(temp, { encoding: 'buffer' });
    if (!top) throw new Error('the folder arrived empty');
    fs.rmSync(where, { recursive: true, force: true });
    fs.renameSync(Buffer.concat([temp, Buffer.from('/'), top]), where);
  } catch (e) {
    throw new Stopped(`The copy arrived whole but could not be saved here: ${(e as Error).message}.`);
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}
