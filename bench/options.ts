// The options of `npm run bench` (see bench/README.md):
//   [--quick] [--json FILE] [--rounds N] [--only a,b] [--profile DIR] [--poor-cap MS]
const argv = process.argv.slice(2);
const flag = (n: string) => argv.includes(n);
const opt = (n: string) => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1] : undefined;
};
export const QUICK = flag('--quick');
export const JSON_FILE = opt('--json');
export const ONLY = opt('--only')?.split(',');
export const ROUNDS = Number(opt('--rounds') ?? (QUICK ? 1 : 5));
/** Sizes: keys typed, bytes printed, rounds and caps behind the poor link, the cap for a flood,
 * the file copied. */
export const C = QUICK
  ? { keys: 60, bulkBytes: 4_000_000, poorKeys: 6, poorRounds: 1, poorCapMs: 4000, floodCapMs: 10_000, fileBytes: 2_000_000 }
  : { keys: 500, bulkBytes: 100_000_000, poorKeys: 40, poorRounds: 3, poorCapMs: 30_000, floodCapMs: 20_000, fileBytes: 20_000_000 };
if (opt('--poor-cap')) C.poorCapMs = Number(opt('--poor-cap'));
// --profile DIR: remote-help's two processes write V8 CPU profiles there (open in Chrome DevTools).
export const PROFILE = opt('--profile');
