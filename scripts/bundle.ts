// Builds the program into one JavaScript file (esbuild), in a folder that runs as it is:
//
//   build/remote-help/remote-help.js   the program: every module of ours and of our packages
//   build/remote-help/usr/             blessed's fallback terminfo (it looks next to itself)
//   build/remote-help/node_modules/    the prebuilt pty addon, loaded when a shell starts
//
// `node build/remote-help/remote-help.js` runs everything the checkout runs; fewer files to load
// make its first screen come sooner. Usage: npm run bundle [-- --out DIR]
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const outArg = process.argv.indexOf('--out');
export const OUT = path.resolve(outArg > 0 ? process.argv[outArg + 1] : path.join(ROOT, 'build', 'remote-help'));
const modules = path.join(ROOT, 'node_modules');

/** blessed requires its widgets by computed names and reads terminfo from `../usr`: rewritten to
 * static requires and to `usr` next to the bundle. */
const blessedPlugin: esbuild.Plugin = {
  name: 'blessed',
  setup(build) {
    build.onLoad({ filter: /[\\/]blessed[\\/]lib[\\/](widget|tput)\.js$/ }, (args) => {
      let text = fs.readFileSync(args.path, 'utf8');
      if (args.path.endsWith('widget.js')) {
        const names = fs.readdirSync(path.join(path.dirname(args.path), 'widgets')).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3));
        const table = `{${names.map((n) => `${JSON.stringify(n)}: () => require(${JSON.stringify(`./widgets/${n}`)})`).join(',\n')}}`;
        const before = "require('./widgets/' + file)";
        if (!text.includes(before)) throw new Error('blessed/lib/widget.js changed: update scripts/bundle.ts');
        text = text.replace(before, `(${table})[file]()`);
      } else {
        const before = "__dirname + '/../usr/";
        if (!text.includes(before)) throw new Error('blessed/lib/tput.js changed: update scripts/bundle.ts');
        // Next to the bundle; in the self-contained executable, where its assets were written out
        // (src/sea.ts sets REMOTE_HELP_ASSETS).
        text = text.split(before).join("(globalThis.REMOTE_HELP_ASSETS || __dirname) + '/usr/");
      }
      return { contents: text, loader: 'js' };
    });
  },
};

/** In the executable, require() loads only Node's own modules (and warns on the friend's screen
 * otherwise): ssh2's optional native parts become modules that say they are not there. */
const notInExecutable: esbuild.Plugin = {
  name: 'not-in-executable',
  setup(build) {
    build.onResolve({ filter: /^cpu-features$|\.node$/ }, (args) => ({ path: args.path, namespace: 'absent' }));
    build.onLoad({ filter: /.*/, namespace: 'absent' }, (args) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`${args.path} is not in this build`)}), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};

/** One JavaScript file from `entry`: src/cli.ts, run when it is the main module, or src/sea.ts
 * (`sea`: it starts itself) for the executable. */
export async function bundleJs(entry: string, file: string, sea = false): Promise<void> {
  await esbuild.build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    minifyWhitespace: true,
    legalComments: 'eof',
    // Optional at run time and never bundled: blessed's terminal widget's packages, ssh2's
    // optional native parts, and the pty addons (pty.ts loads them by name, next to the bundle).
    external: ['term.js', 'pty.js', 'cpu-features', '*.node', '@lydell/node-pty', 'node-pty'],
    banner: { js: '#!/usr/bin/env node' },
    footer: sea ? undefined : { js: 'if (require.main === module) module.exports.main(process.argv);' },
    plugins: sea ? [notInExecutable, blessedPlugin] : [blessedPlugin],
    logLevel: 'warning',
  });
}

/** What goes beside the program: blessed's terminfo files (`usr/`) and the prebuilt pty addon
 * with the package that picks it for this machine (`node_modules/`), as relative paths. */
export function besideFiles(): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  const add = (dir: string, to: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) add(path.join(dir, e.name), path.join(to, e.name));
      else out.push({ from: path.join(dir, e.name), to: path.join(to, e.name) });
    }
  };
  const terminfo = path.join(modules, 'blessed', 'usr');
  for (const name of fs.readdirSync(terminfo)) {
    if (name === 'fonts') continue;
    const from = path.join(terminfo, name);
    if (fs.statSync(from).isDirectory()) add(from, path.join('usr', name));
    else out.push({ from, to: path.join('usr', name) });
  }
  for (const pkg of ['node-pty', `node-pty-${process.platform}-${process.arch}`]) {
    const from = fs.realpathSync(path.join(modules, '@lydell', pkg));
    if (fs.existsSync(from)) add(from, path.join('node_modules', '@lydell', pkg));
  }
  return out;
}

export async function bundle(out = OUT): Promise<{ file: string; bytes: number }> {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, 'remote-help.js');
  await bundleJs(path.join(ROOT, 'src', 'cli.ts'), file);
  fs.chmodSync(file, 0o755);
  for (const f of besideFiles()) {
    fs.mkdirSync(path.dirname(path.join(out, f.to)), { recursive: true });
    fs.copyFileSync(f.from, path.join(out, f.to));
  }
  return { file, bytes: fs.statSync(file).size };
}

if (require.main === module) {
  bundle().then(
    (r) => console.log(`${path.relative(process.cwd(), r.file)}: ${(r.bytes / 1024).toFixed(0)} KiB`),
    (e) => {
      console.error(`bundle failed: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
