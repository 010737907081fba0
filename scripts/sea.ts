// Builds the self-contained executable for machines without Node (Node's single executable
// application): this Node with the program (src/sea.ts, bundled) and its assets (the prebuilt
// pty addon, blessed's terminfo) inside, plus an xz-compressed copy and the SHA-256 of both.
//
//   build/sea/remote-help            the executable (about 100 MB: most of it is Node)
//   build/sea/remote-help.xz         the same, compressed, for the download
//   build/sea/SHA256SUMS             sha256sum format, for both
//
// Usage: npm run sea [-- --no-xz]
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { besideFiles, bundleJs } from './bundle';

const ROOT = path.resolve(__dirname, '..');
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** Runs a step; what it prints is shown only when it fails (postject warns about every ELF note). */
function quiet(file: string, args: string[]) {
  const r = spawnSync(file, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${path.basename(args[0] ?? file)} failed: ${r.stdout}${r.stderr}`);
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

export async function buildSea(o: { out?: string; xz?: boolean } = {}): Promise<{ file: string; bytes: number; xz: { file: string; bytes: number } | null }> {
  const out = o.out ?? path.join(ROOT, 'build', 'sea');
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const work = fs.mkdtempSync(path.join(out, '.work-'));
  const main = path.join(work, 'main.js');
  await bundleJs(path.join(ROOT, 'src', 'sea.ts'), main, true);
  const assets: Record<string, string> = {};
  for (const f of besideFiles()) assets[f.to] = f.from;
  const manifest = path.join(work, 'manifest.json');
  fs.writeFileSync(manifest, JSON.stringify(Object.keys(assets)));
  const blob = path.join(work, 'sea.blob');
  const config = path.join(work, 'sea-config.json');
  fs.writeFileSync(config, JSON.stringify({
    main,
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    assets: { 'manifest.json': manifest, ...assets },
  }));
  quiet(process.execPath, ['--experimental-sea-config', config]);
  const file = path.join(out, 'remote-help');
  fs.copyFileSync(process.execPath, file);
  fs.chmodSync(file, 0o755);
  // postject writes the blob into the copy's resource section and flips the fuse.
  quiet(process.execPath, [require.resolve('postject/dist/cli.js'), file, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE]);
  fs.rmSync(work, { recursive: true, force: true });
  let xz: { file: string; bytes: number } | null = null;
  if (o.xz ?? true) {
    execFileSync('xz', ['-T0', '-6', '-k', '-f', file]);
    xz = { file: `${file}.xz`, bytes: fs.statSync(`${file}.xz`).size };
  }
  const sums = [file, ...(xz ? [xz.file] : [])].map((f) => `${sha256(f)}  ${path.basename(f)}`).join('\n') + '\n';
  fs.writeFileSync(path.join(out, 'SHA256SUMS'), sums);
  return { file, bytes: fs.statSync(file).size, xz };
}

if (require.main === module) {
  buildSea({ xz: !process.argv.includes('--no-xz') }).then(
    (r) => {
      const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
      console.log(`${path.relative(process.cwd(), r.file)}: ${mb(r.bytes)}${r.xz ? `; ${path.relative(process.cwd(), r.xz.file)}: ${mb(r.xz.bytes)}` : ''}`);
    },
    (e) => {
      console.error(`sea failed: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
