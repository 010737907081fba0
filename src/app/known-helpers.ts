// The helpers the friend confirmed before: identity (fingerprint), the name it showed, the first
// and last time, how many sessions. Kept next to the last helper's address (memoryDir) in
// `helpers`, readable by its owner only. A file that others could change is not trusted: it is
// ignored (everyone is new) and left alone, and the friend is told why and what to do.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkName } from '../net/messages';
import type { Seen } from '../screens/wizard';
import { memoryDir, readOwnFile, unwritable } from './memory';

export const HELPERS_FILE = 'helpers';
/** Most helpers remembered: the ones seen longest ago go first. */
export const MAX_KNOWN = 200;

export interface KnownHelper {
  /** The identity's fingerprint, "SHA256:...". */
  id: string;
  name: string;
  /** Milliseconds since the epoch. */
  first: number;
  last: number;
  sessions: number;
}

export interface KnownHelpers {
  /** What the friend's memory makes of this identity and name. */
  recall(id: string, name: string): Seen;
  /** A session with this helper started: count it. A note for the person when it cannot be kept. */
  met(id: string, name: string, now?: number): string | null;
  /** Why helpers are not remembered or recognised here (read-only disk, unsafe file), or null. */
  note(): string | null;
}

/** How names are compared: "Alex", "alex" and " ALEX." are one name; "Alex, your nephew" is Alex. */
function nameKey(name: string): string {
  const first = name.split(/[,(]/)[0];
  return first.toLowerCase().normalize('NFKC').replace(/[^\p{L}\p{N}]+/gu, '');
}

/** Pure: the friend's list against one helper. */
export function recognise(list: readonly KnownHelper[], id: string, name: string): Seen {
  const same = list.find((h) => h.id === id);
  if (same) return { kind: 'known', name, before: same.name, last: same.last, sessions: same.sessions };
  const key = nameKey(name);
  const namesake = key ? list.filter((h) => nameKey(h.name) === key).sort((a, b) => b.last - a.last)[0] : undefined;
  if (namesake) return { kind: 'impostor', name, before: namesake.name, last: namesake.last };
  return { kind: 'new', name };
}

/** Pure: the list after a session with this helper. */
export function counted(list: readonly KnownHelper[], id: string, name: string, now: number): KnownHelper[] {
  const old = list.find((h) => h.id === id);
  const rest = list.filter((h) => h.id !== id);
  const entry = old ? { ...old, name, last: now, sessions: old.sessions + 1 } : { id, name, first: now, last: now, sessions: 1 };
  return [...rest, entry].sort((a, b) => b.last - a.last).slice(0, MAX_KNOWN);
}

function valid(h: unknown): h is KnownHelper {
  const k = h as KnownHelper;
  return typeof k === 'object' && k !== null && typeof k.id === 'string' && /^SHA256:[A-Za-z0-9+/]{43}$/.test(k.id) &&
    typeof k.name === 'string' && checkName(k.name) === null &&
    [k.first, k.last, k.sessions].every((n) => Number.isSafeInteger(n) && n >= 0);
}

export function knownHelpers(dir: string = memoryDir()): KnownHelpers {
  const file = path.join(dir, HELPERS_FILE);
  /** The list, or why it is not used. */
  const load = (): { list: KnownHelper[]; refused: string | null } => {
    let read: ReturnType<typeof readOwnFile>;
    try {
      read = readOwnFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { list: [], refused: `remote-help cannot read its list of helpers you know (${file}: ${code ?? String(err)}), so nobody is recognised.` };
    }
    if (!read) return { list: [], refused: null };
    const { text, st } = read;
    const uid = process.getuid?.();
    const unsafe = uid !== undefined && st.uid !== uid ? `it belongs to user ${st.uid}`
      : st.mode & 0o022 ? `other users can change it (mode ${(st.mode & 0o777).toString(8)})` : null;
    if (unsafe) {
      return { list: [], refused: `remote-help does not trust its list of helpers you know (${file}): ${unsafe}. ` +
        `Nobody is recognised until it is fixed (chmod 600 ${file}, or delete it).` };
    }
    try {
      const doc = JSON.parse(text) as { helpers?: unknown };
      return { list: Array.isArray(doc.helpers) ? doc.helpers.filter(valid) : [], refused: null };
    } catch {
      return { list: [], refused: null }; // a broken file is as good as none; the next session rewrites it
    }
  };
  const cannot = (err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EROFS'
      ? 'The disk is read-only here, so this helper will not be remembered.'
      : `This helper will not be remembered (${code ?? 'cannot write'} in ${dir}).`;
  };
  /** Why nothing can be written here, in words; null when it can (as memory.ts asks). */
  const diskNote = (): string | null => {
    const err = unwritable(dir);
    return err ? cannot(err) : null;
  };
  return {
    recall(id, name) {
      return recognise(load().list, id, name);
    },
    met(id, name, now = Date.now()) {
      const { list, refused } = load();
      if (refused) return refused;
      try {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        const tmp = `${file}.${process.pid}`;
        fs.writeFileSync(tmp, JSON.stringify({ helpers: counted(list, id, name, now) }, null, 1) + '\n', { mode: 0o600 });
        fs.renameSync(tmp, file);
        return null;
      } catch (err) {
        // mkdir on a read-only disk can report ENOENT: ask the disk itself why.
        return diskNote() ?? cannot(err);
      }
    },
    note() {
      return load().refused ?? diskNote();
    },
  };
}
