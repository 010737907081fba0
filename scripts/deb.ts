// Builds the Debian package (dpkg-deb; nothing from the network): the bundle with blessed's
// terminfo and the prebuilt pty addon in /usr/lib/remote-help, /usr/bin/remote-help, the man page,
// the recovery-menu entry, and the package's own files. Usage: npm run deb [-- --out DIR]
//
//   build/remote-help_VERSION_ARCH.deb
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { bundle } from './bundle';

const ROOT = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; description: string };

/** The files under dir, relative, sorted. */
function walk(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = path.join(rel, e.name);
    return e.isDirectory() ? walk(dir, r) : [r];
  }).sort();
}

function write(root: string, rel: string, data: string | Buffer, mode = 0o644) {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
  fs.chmodSync(file, mode);
}

const gz = (text: string) => gzipSync(Buffer.from(text), { level: 9 }).subarray(0); // no name, no time in the header

export async function buildDeb(o: { outDir?: string; version?: string } = {}): Promise<{ file: string; bytes: number }> {
  const outDir = o.outDir ?? path.join(ROOT, 'build');
  const version = o.version ?? pkg.version;
  const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
  const root = path.join(outDir, 'deb-root');
  fs.rmSync(root, { recursive: true, force: true });
  await bundle(path.join(root, 'usr', 'lib', 'remote-help'));
  fs.mkdirSync(path.join(root, 'usr', 'bin'), { recursive: true });
  fs.symlinkSync('../lib/remote-help/remote-help.js', path.join(root, 'usr', 'bin', 'remote-help'));
  write(root, 'usr/lib/recovery-mode/options/remote-help', fs.readFileSync(path.join(ROOT, 'packaging', 'recovery-mode-option')), 0o755);
  // "Get remote help" in the desktop menu: the desktop opens its terminal with the wizard.
  write(root, 'usr/share/applications/remote-help.desktop', fs.readFileSync(path.join(ROOT, 'packaging', 'remote-help.desktop')));
  write(root, 'usr/share/man/man1/remote-help.1.gz', gz(fs.readFileSync(path.join(ROOT, 'packaging', 'remote-help.1'), 'utf8')));
  write(root, 'usr/share/doc/remote-help/copyright', fs.readFileSync(path.join(ROOT, 'packaging', 'copyright')));
  write(root, 'usr/share/doc/remote-help/changelog.gz', gz(fs.readFileSync(path.join(ROOT, 'packaging', 'changelog'), 'utf8')));
  // The addon as Debian wants shared objects: without symbols to debug it (strip comes with
  // binutils, which lintian needs too; without it the addon stays as it came).
  for (const rel of walk(root).filter((r) => r.endsWith('.node'))) {
    try {
      execFileSync('strip', ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', path.join(root, rel)], { stdio: 'ignore' });
    } catch {
      // no strip here
    }
  }
  // Every directory 0755, every file 0644 but the programs.
  for (const rel of walk(root)) {
    const file = path.join(root, rel);
    const mode = fs.lstatSync(file);
    if (mode.isSymbolicLink()) continue;
    const exec = rel === 'usr/lib/remote-help/remote-help.js' || rel === 'usr/lib/recovery-mode/options/remote-help';
    fs.chmodSync(file, exec ? 0o755 : 0o644);
  }
  for (let d of walk(root).map((r) => path.dirname(path.join(root, r)))) {
    while (d.startsWith(root) && d !== root) {
      fs.chmodSync(d, 0o755);
      d = path.dirname(d);
    }
  }
  const files = walk(root).filter((r) => !fs.lstatSync(path.join(root, r)).isSymbolicLink());
  const sizeKiB = Math.ceil(files.reduce((n, r) => n + fs.statSync(path.join(root, r)).size, 0) / 1024);
  const md5 = files.map((r) => `${createHash('md5').update(fs.readFileSync(path.join(root, r))).digest('hex')}  ${r}`).join('\n') + '\n';
  const control = [
    'Package: remote-help',
    `Version: ${version}`,
    `Architecture: ${arch}`,
    'Maintainer: remote-help developers <remote-help@users.noreply.github.com>',
    `Installed-Size: ${sizeKiB}`,
    // nodejs for the program; the rest for the prebuilt pty addon (objdump -p: NEEDED, versions).
    'Depends: nodejs (>= 18), libc6 (>= 2.28), libstdc++6 (>= 6), libgcc-s1',
    // Sharing the screen too (x11vnc), with its "End remote help" window (yad or zenity); the
    // helper's viewer; the meeting point (ssh).
    'Suggests: x11vnc, yad | zenity, tigervnc-viewer | xtightvncviewer, openssh-client',
    'Enhances: friendly-recovery',
    'Section: admin',
    'Priority: optional',
    'Description: help a friend fix their Linux machine over the phone',
    ' remote-help connects a friend\'s machine and a helper\'s over the network,',
    ' checks with a five-symbol code read aloud that nobody sits in the middle,',
    ' then runs SSH end to end and gives both one shared shell on the friend\'s',
    ' machine. The friend sees everything and ends it all with Ctrl-Alt-C or F12.',
    ' .',
    ' It is also an entry in the recovery menu (friendly-recovery), for a machine',
    ' that no longer starts normally.',
    '',
  ].join('\n');
  write(root, 'DEBIAN/control', control);
  write(root, 'DEBIAN/md5sums', md5);
  const file = path.join(outDir, `remote-help_${version}_${arch}.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, file], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { file, bytes: fs.statSync(file).size };
}

if (require.main === module) {
  buildDeb().then(
    (r) => console.log(`${path.relative(process.cwd(), r.file)}: ${(r.bytes / 1024).toFixed(0)} KiB`),
    (e) => {
      console.error(`deb failed: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
