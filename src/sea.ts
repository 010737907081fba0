// The self-contained executable's start (scripts/sea.ts builds it: Node itself with this program
// and its assets inside). Its require() loads only Node's own modules, so the assets that must
// be files (the prebuilt pty addon and blessed's terminfo) are written out once into a private
// folder in memory: /run/remote-help for root, the user's runtime directory (/run/user/UID)
// otherwise, never /tmp, where another user could put something in their place. Where neither
// can be written, the shared shell runs under `script` and the system's terminfo is used.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as sea from 'node:sea';
import { main } from './cli';
import { loadAddonsFrom } from './session/pty';

/** The folder the assets go into, made private (0700) and ours; null when there is none. */
function privateRuntimeDir(): string | null {
  const uid = process.getuid?.() ?? -1;
  const base = uid === 0 ? '/run/remote-help' : (process.env.XDG_RUNTIME_DIR?.startsWith('/') ? process.env.XDG_RUNTIME_DIR : `/run/user/${uid}`);
  try {
    if (uid === 0) fs.mkdirSync(base, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(base);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) return null;
    return base;
  } catch {
    return null;
  }
}

/** Writes the assets out (once per build: the folder is named by their hash) and returns where. */
function writeAssets(): string | null {
  const names = JSON.parse(sea.getAsset('manifest.json', 'utf8')) as string[];
  const digest = createHash('sha256');
  for (const name of names) digest.update(name).update(Buffer.from(sea.getAsset(name)));
  const base = privateRuntimeDir();
  if (!base) return null;
  const dir = path.join(base, `assets-${digest.digest('hex').slice(0, 16)}`);
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  // Written beside, then renamed into place: a folder that exists is always whole.
  const tmp = fs.mkdtempSync(path.join(base, '.assets-'));
  try {
    for (const name of names) {
      const file = path.join(tmp, name);
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(file, Buffer.from(sea.getAsset(name)), { mode: 0o600 });
    }
    fs.writeFileSync(path.join(tmp, '.complete'), '');
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another start won the race, or no room
  }
  return fs.existsSync(path.join(dir, '.complete')) ? dir : null;
}

let dir: string | null = null;
try {
  dir = sea.isSea() ? writeAssets() : null;
} catch {
  dir = null; // no assets: the script fallback and the system's terminfo
}
if (dir) (globalThis as { REMOTE_HELP_ASSETS?: string }).REMOTE_HELP_ASSETS = dir;
loadAddonsFrom(dir);
main(process.argv);
