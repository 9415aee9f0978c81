/**
 * The shipped runtime is an esbuild bundle (tools/build.mjs): built here in memory with the same
 * options and checked from its metafile. It needs nothing outside itself but Node's built-in
 * modules (the image has no node_modules), every file has its source map, and `serve` never loads
 * the simulator: no chunk that `dist/cli.js` imports statically holds simulator code, which only a
 * dynamic import reaches.
 */
import { builtinModules } from 'node:module';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain JavaScript build script, typed by its JSDoc
import { BUNDLE_OPTIONS, OPTIONAL_EXTERNALS } from '../../tools/build.mjs';

let metafile: Metafile;
let files: string[];
let scriptTexts: Map<string, string>;

beforeAll(async () => {
  const result = await build({ ...(BUNDLE_OPTIONS as object), write: false, metafile: true, logLevel: 'silent' });
  metafile = result.metafile;
  files = result.outputFiles.map((f) => f.path);
  scriptTexts = new Map(result.outputFiles.filter((f) => f.path.endsWith('.js')).map((f) => [f.path, f.text]));
}, 120_000);

/** Every output `entry` loads before it runs: its static imports, transitively. */
function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (output: string) => {
    if (seen.has(output)) return;
    seen.add(output);
    for (const imported of metafile.outputs[output]!.imports) if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
  };
  visit(entry);
  return seen;
}

const isSimulatorCode = (input: string) => input.startsWith('src/simulator/');

describe('the bundle', () => {
  it('needs nothing but Node built-ins at run time (and the optional addons ws does without)', () => {
    const builtins = new Set([...builtinModules, ...(OPTIONAL_EXTERNALS as string[])]);
    const externals = Object.values(metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
    expect([...new Set(externals.filter((p) => !p.startsWith('node:') && !builtins.has(p)))]).toEqual([]);
  });

  it('keeps a source map beside every file', () => {
    const scripts = Object.keys(metafile.outputs).filter((o) => o.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(1);
    for (const script of scripts) expect(files.some((f) => f.endsWith(`${script}.map`)), `${script}.map`).toBe(true);
  });

  it('is Latin-1 text, so V8 keeps each script one byte per character', () => {
    // One character above U+00FF (a regular expression's μ, which esbuild does not escape) made the
    // 3.8 MB main chunk a two-byte string: 7.2 MB of heap in every daemon (issue 17's RSS).
    expect(scriptTexts.size).toBeGreaterThan(1);
    const wide = [...scriptTexts].flatMap(([file, text]) => {
      const at = text.search(/[^\u0000-\u00ff]/u);
      return at < 0 ? [] : [`${file}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 10))}`];
    });
    expect(wide).toEqual([]);
  });

  it('serve (dist/cli.js) loads no simulator code; the simulator is a chunk reached by dynamic import', () => {
    const loaded = staticClosure('dist/cli.js');
    const simulatorIn = [...loaded].flatMap((o) => Object.keys(metafile.outputs[o]!.inputs).filter(isSimulatorCode).map((i) => `${o}: ${i}`));
    expect(simulatorIn).toEqual([]);
    const lazy = Object.entries(metafile.outputs).filter(([, o]) => Object.keys(o.inputs).some(isSimulatorCode));
    expect(lazy.length).toBeGreaterThan(0);
    const dynamic = [...loaded].flatMap((o) => metafile.outputs[o]!.imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path));
    expect(lazy.some(([output]) => dynamic.includes(output))).toBe(true);
  });
});
