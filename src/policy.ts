// What this machine's administrator allows: /etc/remote-help/policy.conf (TOML, read with
// smol-toml), or the file $REMOTE_HELP_POLICY names. No file: everything as without a policy. A
// file that cannot be read, has an unknown key or a bad value, or that anyone but root could
// change, stops remote-help before anything starts (fail closed), naming the file, the line and
// what is wrong.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { HelpError } from './errors';

export const POLICY_FILE = '/etc/remote-help/policy.conf';

export interface Policy {
  /** The file it came from, or null: no policy. */
  file: string | null;
  /** This machine may be helped (friend mode); it may help others (helper mode). */
  helpThisMachine: boolean;
  helpOthers: boolean;
  /** "yes": the helper may type and the friend can take it away (as without a policy); "no":
   * helpers only watch; "ask": the helper starts watching until the friend gives the keyboard. */
  helperMayType: 'yes' | 'no' | 'ask';
  desktop: boolean;
  /** The helper may send and fetch files through the shared shell (~s, ~g). */
  fileTransfer: boolean;
  openFirewall: boolean;
  mapPort: boolean;
  meetingPoint: boolean;
  /** The longest session and the longest wait, or null: no limit of the policy's. */
  maxSessionMs: number | null;
  maxWaitMs: number | null;
  /** "required": no session starts where its transcript cannot be kept on disk. */
  transcript: 'optional' | 'required';
  /** The helpers' addresses, names or meeting points the friend may connect to (empty: any). */
  connectTo: string[];
  /** The helper identities (fingerprints, "SHA256:...") this computer accepts help from (empty: any). */
  allowedHelpers: string[];
}

export const NO_POLICY: Policy = {
  file: null, helpThisMachine: true, helpOthers: true, helperMayType: 'yes', desktop: true, fileTransfer: true, openFirewall: true,
  mapPort: true, meetingPoint: true, maxSessionMs: null, maxWaitMs: null, transcript: 'optional', connectTo: [],
  allowedHelpers: [],
};

type Reader = (v: unknown) => unknown;
const bool: Reader = (v) => (typeof v === 'boolean' ? v : undefined);
const oneOf = (...words: string[]): Reader => (v) => (typeof v === 'string' && words.includes(v) ? v : undefined);
const minutes: Reader = (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 525_600 ? (v === 0 ? null : Math.round(v * 60_000)) : undefined);
const names: Reader = (v) => (Array.isArray(v) && v.every((s) => typeof s === 'string' && s.trim() !== '') ? v.map((s: string) => s.trim().toLowerCase()) : undefined);
/** Fingerprints as `ssh-keygen -l` prints them; the base64 is case-sensitive, so kept as written. */
const fingerprints: Reader = (v) => (Array.isArray(v) && v.every((s) => typeof s === 'string' && /^SHA256:[A-Za-z0-9+/]{43}$/.test(s.trim())) ? v.map((s: string) => s.trim()) : undefined);

/** Each key of the file: what it sets, how it is read, and what a good value looks like. */
const KEYS: Record<string, [keyof Policy, Reader, string]> = {
  help_this_machine: ['helpThisMachine', bool, 'true or false'],
  help_others: ['helpOthers', bool, 'true or false'],
  helper_may_type: ['helperMayType', oneOf('yes', 'no', 'ask'), '"yes", "no" or "ask"'],
  desktop: ['desktop', bool, 'true or false'],
  file_transfer: ['fileTransfer', bool, 'true or false'],
  open_firewall: ['openFirewall', bool, 'true or false'],
  map_port: ['mapPort', bool, 'true or false'],
  meeting_point: ['meetingPoint', bool, 'true or false'],
  max_session_minutes: ['maxSessionMs', minutes, 'a number of minutes (0: no limit)'],
  max_wait_minutes: ['maxWaitMs', minutes, 'a number of minutes (0: no limit)'],
  transcript: ['transcript', oneOf('optional', 'required'), '"optional" or "required"'],
  connect_to: ['connectTo', names, 'a list of addresses or names, like ["helpdesk.example.org"]'],
  allowed_helpers: ['allowedHelpers', fingerprints, 'a list of helper identities as their helpers see them, like ["SHA256:..."] (43 characters after SHA256:)'],
};

/** The line of `text` where `key` is set, for the message. */
function lineOf(text: string, key: string): number {
  const i = text.split('\n').findIndex((l) => new RegExp(`^\\s*"?${key}"?\\s*=`).test(l));
  return i + 1;
}

/** Only root may be able to change the policy: the file and the folder it is in. */
function checkOwner(file: string, bad: (what: string) => HelpError): void {
  for (const p of [file, path.dirname(file)]) {
    const st = fs.statSync(p);
    if (st.uid !== 0) throw bad(`${p} belongs to user ${st.uid}, not root`);
    if (st.mode & 0o022) throw bad(`${p} can be changed by users other than root (mode ${(st.mode & 0o777).toString(8)})`);
  }
}

export function loadPolicy(file = process.env.REMOTE_HELP_POLICY || POLICY_FILE): Policy {
  const bad = (what: string, line?: number) => new HelpError('policy',
    `This computer's remote-help policy cannot be used: ${file}${line ? `, line ${line}` : ''}: ${what}.`,
    'remote-help does nothing until it is fixed: ask whoever looks after this computer (the settings are described in man remote-help).');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return NO_POLICY;
    throw bad(`it cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  checkOwner(file, bad);
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (err) {
    if (err instanceof TomlError) throw bad(err.message.split('\n')[0].replace(/^Invalid TOML document: /, '').replace(/\.$/, ''), err.line);
    throw bad(String(err));
  }
  const policy: Policy = { ...NO_POLICY, file };
  for (const [key, value] of Object.entries(doc)) {
    const known = KEYS[key];
    if (!known) throw bad(`"${key}" is not a setting remote-help knows (they are: ${Object.keys(KEYS).join(', ')})`, lineOf(text, key));
    const [field, read, good] = known;
    const v = read(value);
    if (v === undefined) throw bad(`${key} must be ${good}`, lineOf(text, key));
    (policy as unknown as Record<string, unknown>)[field] = v;
  }
  return policy;
}

/** Whether the friend may connect to this helper (address or meeting point as typed). */
export function mayConnectTo(p: Policy, host: string): boolean {
  return p.connectTo.length === 0 || p.connectTo.includes(host.trim().toLowerCase());
}

/** Whether help may come from this helper identity (its fingerprint; null: it gave none). */
export function mayBeHelpedBy(p: Policy, id: string | null): boolean {
  return p.allowedHelpers.length === 0 || (id !== null && p.allowedHelpers.includes(id));
}

/** How a screen says that the administrator turned something off. */
export const TURNED_OFF = 'turned off by this computer\'s administrator';
