// The friend's side remembers the last helper that worked (and nothing else: no secret). The
// helper's side remembers nothing. On a read-only disk we say so and carry on.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Memory {
  lastHelper(): string;
  /** Saves the address; returns a note for the person when it cannot be saved. */
  remember(address: string): string | null;
  /** A note to show up front when nothing can be saved here (e.g. a read-only disk). */
  note(): string | null;
}

export function memoryDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REMOTE_HELP_CONFIG_DIR) return env.REMOTE_HELP_CONFIG_DIR;
  if (typeof process.getuid === 'function' && process.getuid() === 0) return '/var/lib/remote-help';
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'remote-help');
}

/** A file of ours, read without following a link, with what fstat says of it (owner, mode);
 * null when it is not there. Any other failure is thrown. */
export function readOwnFile(file: string): { text: string; st: fs.Stats } | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return { st: fs.fstatSync(fd), text: fs.readFileSync(fd, 'utf8') };
  } finally {
    fs.closeSync(fd);
  }
}

/** Why nothing can be written in `dir` (or the nearest folder above it that exists): the error,
 * or null when it can. */
export function unwritable(dir: string): unknown {
  try {
    let d = dir;
    while (!fs.existsSync(d)) d = path.dirname(d);
    fs.accessSync(d, fs.constants.W_OK);
    return null;
  } catch (err) {
    return err;
  }
}

export function fileMemory(dir: string = memoryDir()): Memory {
  const file = path.join(dir, 'last-helper');
  /** Why nothing can be written here, in words; null when it can. */
  const note = (): string | null => {
    const err = unwritable(dir);
    return err ? cannot(err) : null;
  };
  const cannot = (err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EROFS'
      ? 'The disk is read-only here, so this address will not be remembered.'
      : `This address will not be remembered (${code ?? 'cannot write'} in ${dir}).`;
  };
  return {
    lastHelper() {
      try {
        const text = fs.readFileSync(file, 'utf8').trim();
        return /^[\x21-\x7e]{1,300}$/.test(text) ? text : '';
      } catch {
        return '';
      }
    },
    remember(address) {
      try {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        const tmp = `${file}.${process.pid}`;
        fs.writeFileSync(tmp, address + '\n', { mode: 0o600 });
        fs.renameSync(tmp, file);
        return null;
      } catch (err) {
        // mkdir on a read-only disk can report ENOENT: ask the disk itself why.
        return note() ?? cannot(err);
      }
    },
    note,
  };
}
