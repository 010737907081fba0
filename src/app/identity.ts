// The helper's identity, kept in the helper's config folder (memoryDir: ~/.config/remote-help)
// as `helper-identity`: an OpenSSH private key file (so `ssh-keygen -l -f` shows its
// fingerprint), readable by its owner only, whose comment is the name the helper chose to show
// friends. Made on first use; `remote-help helper --new-identity` replaces it, and friends then
// see a new helper. A file others could read or change is refused, never used.
import { randomBytes, createPrivateKey } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { utils } from 'ssh2';
import { HelpError } from '../errors';
import { fingerprint, identityFromSeed, type IdentityKey } from '../net/identity';
import { opensshEd25519 } from '../net/keys';
import { checkName } from '../net/messages';
import { memoryDir, readOwnFile } from './memory';

export const IDENTITY_FILE = 'helper-identity';

export interface HelperIdentity {
  key: IdentityKey;
  /** The name chosen to show friends; '' until one is chosen. */
  name: string;
  fingerprint: string;
  /** Why it could not be kept on disk (friends will see a new helper next time), or null. */
  note: string | null;
}

export interface IdentityStore {
  readonly file: string;
  /** The name chosen to show friends, '' when none (or the file cannot be used); makes nothing. */
  name(): string;
  /** The identity, made on first use (anew with `fresh`). Throws a HelpError when the file is
   * there but must not or cannot be used. */
  load(fresh?: boolean): HelperIdentity;
  /** Keeps `name` with the identity (made if need be); returns the identity. */
  setName(name: string): HelperIdentity;
}

export function identityStore(dir: string = memoryDir()): IdentityStore {
  const file = path.join(dir, IDENTITY_FILE);
  const write = (seed: Buffer, name: string): string | null => {
    const key = identityFromSeed(seed);
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}`;
      fs.writeFileSync(tmp, opensshEd25519(seed, key.publicBlob.subarray(19), name).privateKey, { mode: 0o600 });
      fs.renameSync(tmp, file);
      return null;
    } catch (err) {
      // mkdir on a read-only disk can report ENOENT: ask the disk itself why.
      const code = readOnly(dir) ? 'EROFS' : (err as NodeJS.ErrnoException).code ?? String(err);
      return `Your helper identity could not be saved in ${dir} (${code === 'EROFS' ? 'the disk is read-only' : code}), so friends will see you as a new helper next time.`;
    }
  };
  const made = (seed: Buffer, name: string, note: string | null): HelperIdentity => {
    const key = identityFromSeed(seed);
    return { key, name, fingerprint: fingerprint(key.publicBlob), note };
  };
  const read = (): { seed: Buffer; name: string } | null => {
    let read: ReturnType<typeof readOwnFile>;
    try {
      read = readOwnFile(file);
    } catch (err) {
      throw unusable(file, `it cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (!read) return null;
    const { text, st } = read;
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) throw unusable(file, `it belongs to user ${st.uid}, not to you`);
    if (st.mode & 0o077) throw unusable(file, `other users of this computer can read or change it (mode ${(st.mode & 0o777).toString(8)})`);
    const parsed = utils.parseKey(text);
    const k = parsed instanceof Error ? null : Array.isArray(parsed) ? parsed[0] : parsed;
    if (!k || k.type !== 'ssh-ed25519' || !k.isPrivateKey()) throw unusable(file, 'it is not an unencrypted Ed25519 key');
    const seed = createPrivateKey(k.getPrivatePEM()).export({ format: 'der', type: 'pkcs8' }).subarray(-32);
    const name = checkName(k.comment) ? '' : k.comment;
    return { seed: Buffer.from(seed), name };
  };
  return {
    file,
    name() {
      try {
        return read()?.name ?? '';
      } catch {
        return ''; // said when the identity is loaded
      }
    },
    load(fresh = false) {
      let old: ReturnType<typeof read> = null;
      try {
        old = read();
      } catch (err) {
        if (!fresh) throw err; // a new identity replaces a file that cannot be used
      }
      if (old && !fresh) return made(old.seed, old.name, null);
      const seed = randomBytes(32);
      return made(seed, old?.name ?? '', write(seed, old?.name ?? ''));
    },
    setName(name) {
      const bad = checkName(name);
      if (bad) throw new HelpError('usage', `That name cannot be shown to friends: ${bad}.`, 'Choose a short name, like "Alex, your nephew".');
      const old = read();
      const seed = old?.seed ?? randomBytes(32);
      return made(seed, name, write(seed, name));
    },
  };
}

/** Whether the nearest existing folder of `dir` is on a read-only disk. */
function readOnly(dir: string): boolean {
  let d = dir;
  while (!fs.existsSync(d)) d = path.dirname(d);
  try {
    fs.accessSync(d, fs.constants.W_OK);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EROFS';
  }
}

function unusable(file: string, why: string): HelpError {
  return new HelpError('usage', `Your helper identity (${file}) is not used: ${why}.`,
    `Make it yours alone (chmod 600 ${file}), or make a new one with: remote-help helper --new-identity (friends then see a new helper).`);
}
