/**
 * `npm run build`: the shipped runtime as an esbuild bundle in dist/, with source maps.
 *
 * Why a bundle: tsc's one file per module made `serve` load every module of every dependency it
 * imports, and @kubernetes/client-node alone is ~2,700 generated API modules loaded through one
 * ObjectSerializer; V8 keeps their source for lazy compilation (issue 17 measured 151 MB RSS after
 * importing dist/main.js, 96-107 MB bundled). A bundle keeps only what is reachable.
 *
 * Entry points: the CLI (bin, `npm start`, the image), and the modules the benchmark's processes
 * import. With `splitting`, code shared between entries lives in chunks loaded once, and the
 * simulator, imported dynamically by main.ts and cli.ts, is a chunk of its own that `serve` never
 * loads (test/deploy/bundle.test.ts proves it from the metafile).
 *
 * Plain JavaScript, so the build needs nothing but esbuild (no tsx in the image's build stage).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Optional native addons `ws` (client-node's exec/attach, unused here) tries inside a try/catch and
 * does without: not installed, so not bundled; the bundle runs without them.
 */
export const OPTIONAL_EXTERNALS = ['bufferutil', 'utf-8-validate'];

/** @type {import('esbuild').BuildOptions} */
export const BUNDLE_OPTIONS = {
  absWorkingDir: ROOT,
  entryPoints: {
    cli: 'src/cli.ts',
    main: 'src/main.ts',
    'config/load': 'src/config/load.ts',
    'http/server': 'src/http/server.ts',
    // The bench's daemon process times the correlation step alone (test/bench/daemon-process.mjs).
    'incidents/correlate': 'src/incidents/correlate.ts',
    'simulator/index': 'src/simulator/index.ts',
  },
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  external: OPTIONAL_EXTERNALS,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  // Whitespace and syntax only: names stay, so a stack trace still reads without the maps. The
  // minified source is what V8 keeps in memory (about 13 MB less heap after import).
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  // Dependencies written as CommonJS call require(); an ES module has none unless it is made.
  banner: { js: "import { createRequire as __rdCreateRequire } from 'node:module'; const require = __rdCreateRequire(import.meta.url);" },
  legalComments: 'linked',
  logLevel: 'warning',
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await rm(path.join(ROOT, 'dist'), { recursive: true, force: true });
  await build(BUNDLE_OPTIONS);
}
