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
        text = text.split(before).join("__dirname + '/usr/");
      }
      return { contents: text, loader: 'js' };
    });
  },
};

export async function bundle(out = OUT): Promise<{ file: string; bytes: number }> {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, 'remote-help.js');
  await esbuild.build({
    entryPoints: [path.join(ROOT, 'src', 'cli.ts')],
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
    footer: { js: 'if (require.main === module) module.exports.main(process.argv);' },
    plugins: [blessedPlugin],
    logLevel: 'warning',
  });
  fs.chmodSync(file, 0o755);
  const terminfo = path.join(modules, 'blessed', 'usr');
  fs.mkdirSync(path.join(out, 'usr'));
  for (const name of fs.readdirSync(terminfo)) {
    if (name !== 'fonts') fs.cpSync(path.join(terminfo, name), path.join(out, 'usr', name), { recursive: true });
  }
  // The prebuilt addon and the package that picks it for this machine.
  for (const pkg of ['node-pty', `node-pty-${process.platform}-${process.arch}`]) {
    const from = path.join(modules, '@lydell', pkg);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(out, 'node_modules', '@lydell', pkg), { recursive: true, dereference: true });
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
