/**
 * Reads a scenario folder into plain Kubernetes objects, with the same rules everywhere a scenario
 * is read (simulator, check tests): which files count, how Lists expand, stable order, defaults.
 *
 * Overlays: a folder with a sibling `_base/` folder (test/fixtures/<check>/<case> next to
 * test/fixtures/<check>/_base) is that base plus the folder's own objects. An object with the same
 * API group, kind, namespace and name as a base object replaces it; a document with `$delete: true`
 * (apiVersion, kind and metadata naming the object) removes it. Only objects overlay: the folder's
 * rollout-doctor.yaml is its own, and its logs/ folder, when it has one, replaces the base's
 * (a case without logs/ serves its base's).
 *
 * A folder may instead name its base in a `scenario.yaml` (the bundled demo scenarios overlay the
 * homelab this way), which also describes it:
 *
 *     description: one line, shown by `rollout-doctor demo --list`
 *     base: ../homelab              # the folder it overlays, relative to this one
 *     now: "2026-11-26T13:58:00Z"   # the moment it shows: checks evaluate at this time
 *
 * With an explicit base the same overlay rules apply, and the base's rollout-doctor.yaml is the
 * scenario's config when it has none of its own. Bases may have bases; a cycle is an error.
 */
import type { Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';
import { z } from 'zod';
import { yamlToJs } from '../yaml-aliases.js';
import { ObjectStore, type KubeObject } from './store.js';

/** Files beside scenario objects that are not objects. */
const EXCLUDED_FILES = new Set(['rollout-doctor.yaml', 'expected.yaml', 'scenario.yaml']);
const OBJECT_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** Thrown with the file (and document) that could not be read. */
export class ScenarioError extends Error {}

/** Scenario files in stable order (sorted by path relative to `dir`, code-unit order). */
export async function listScenarioFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    for (const entry of entries) {
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name === 'logs') continue;
        await walk(childRel);
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        if (EXCLUDED_FILES.has(entry.name)) continue;
        if (OBJECT_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) found.push(childRel);
      }
    }
  }
  await walk('');
  found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return found;
}

function isObjectWithType(doc: unknown): doc is KubeObject {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return false;
  const o = doc as KubeObject;
  return typeof o['apiVersion'] === 'string' && o['apiVersion'] !== '' && typeof o['kind'] === 'string' && o['kind'] !== '';
}

/** Expands `kind: List` and typed `*List` documents; items of typed lists inherit the type. */
export function expandDocument(doc: unknown): KubeObject[] {
  if (!isObjectWithType(doc)) return [];
  const kind = doc['kind'] as string;
  if (kind.endsWith('List') && Array.isArray(doc['items'])) {
    const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
    const out: KubeObject[] = [];
    for (const item of doc['items'] as unknown[]) {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) continue;
      const obj = { ...(item as KubeObject) };
      if (itemKind !== undefined) {
        if (typeof obj['apiVersion'] !== 'string') obj['apiVersion'] = doc['apiVersion'];
        if (typeof obj['kind'] !== 'string') obj['kind'] = itemKind;
      }
      out.push(...expandDocument(obj));
    }
    return out;
  }
  return [doc];
}

/**
 * Parses one file's text (multi-document YAML; JSON is YAML) into typed documents. A .json file
 * goes through JSON.parse first: generated scale scenarios are tens of MB, which the YAML parser
 * takes seconds and a GB to read.
 */
export function parseObjects(text: string, source: string): KubeObject[] {
  const out: KubeObject[] = [];
  if (source.endsWith('.json')) {
    try {
      return expandDocument(JSON.parse(text) as unknown);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      // Not strict JSON (comments, trailing commas): the YAML parser below says where.
    }
  }
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      throw new ScenarioError(`${source}: document ${index + 1}: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
    }
    out.push(...expandDocument(yamlToJs(doc, `${source}: document ${index + 1}`, ScenarioError)));
  });
  return out;
}

export interface ScenarioDocument {
  object: KubeObject;
  source: string;
  /** The scenario folder the file belongs to (a base's, for an object an overlay did not replace). */
  folder: string;
}

/** The documents of one folder's own files, in stable order. */
async function readFolderDocuments(dir: string): Promise<ScenarioDocument[]> {
  const out: ScenarioDocument[] = [];
  for (const rel of await listScenarioFiles(dir)) {
    const file = path.join(dir, rel);
    for (const object of parseObjects(await readFile(file, 'utf8'), file)) out.push({ object, source: file, folder: dir });
  }
  return out;
}

/** The folder name of the scenario a sibling folder overlays. */
const BASE_FOLDER = '_base';

const MANIFEST_FILE = 'scenario.yaml';

const manifestSchema = z.strictObject({
  description: z.string().min(1).optional(),
  base: z.string().min(1).optional(),
  now: z.iso.datetime({ offset: true }).optional(),
});

/** What a scenario's scenario.yaml says about it (nothing when it has none). */
export interface ScenarioManifest {
  description?: string;
  /** The folder it overlays, resolved. */
  base?: string;
  /** The moment it shows. */
  now?: Date;
}

export async function readScenarioManifest(dir: string): Promise<ScenarioManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ScenarioError(`${file}: ${(error as Error).message}`);
  }
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) throw new ScenarioError(`${file}: ${doc.errors[0]!.message.split('\n')[0]}`);
  const parsed = manifestSchema.safeParse(yamlToJs(doc, file, ScenarioError) ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ScenarioError(`${file}: ${issue.path.join('.') || 'document'}: ${issue.message}`);
  }
  const base = parsed.data.base === undefined ? undefined : path.join(dir, parsed.data.base);
  if (base !== undefined && !(await stat(base).catch(() => undefined))?.isDirectory()) {
    throw new ScenarioError(`${file}: base: ${parsed.data.base}: no such scenario folder`);
  }
  return { description: parsed.data.description, base, now: parsed.data.now === undefined ? undefined : new Date(parsed.data.now) };
}

/** The base scenario `dir` overlays, when it has one: its scenario.yaml's, else a sibling `_base/`. */
async function scenarioBase(dir: string): Promise<string | undefined> {
  const named = (await readScenarioManifest(dir)).base;
  if (named !== undefined) return named;
  const resolved = path.resolve(dir);
  if (path.basename(resolved) === BASE_FOLDER) return undefined;
  const base = path.join(path.dirname(resolved), BASE_FOLDER);
  return (await stat(base).catch(() => undefined))?.isDirectory() ? base : undefined;
}

/** `dir`, then the bases it overlays, nearest first; a base that comes round again is an error. */
async function scenarioChain(dir: string): Promise<string[]> {
  const chain = [dir];
  for (let base = await scenarioBase(dir); base !== undefined; base = await scenarioBase(base)) {
    const next = base;
    if (chain.some((folder) => path.resolve(folder) === path.resolve(next))) {
      throw new ScenarioError(`${path.join(chain.at(-1)!, MANIFEST_FILE)}: base: ${next} is already in the chain ${chain.join(' -> ')}`);
    }
    chain.push(next);
  }
  return chain;
}

/** The first of `dir` and its bases that has `name`, when one has it. */
async function nearest(dir: string, name: string, isWanted: (found: Stats) => boolean): Promise<string | undefined> {
  for (const folder of await scenarioChain(dir)) {
    const found = await stat(path.join(folder, name)).catch(() => undefined);
    if (found && isWanted(found)) return path.join(folder, name);
  }
  return undefined;
}

/** The folder pod logs are served from: the scenario's own logs/, else its nearest base's. */
export async function scenarioLogsDir(dir: string): Promise<string> {
  return (await nearest(dir, 'logs', (s) => s.isDirectory())) ?? path.join(dir, 'logs');
}

/**
 * The scenario's rollout-doctor config: its own rollout-doctor.yaml, else (only through a base a
 * scenario.yaml names) its base's. A test case beside a `_base/` has its own config or none.
 */
export async function scenarioConfigFile(dir: string): Promise<string | undefined> {
  const own = path.join(dir, 'rollout-doctor.yaml');
  if ((await stat(own).catch(() => undefined))?.isFile()) return own;
  const named = (await readScenarioManifest(dir)).base;
  return named === undefined ? undefined : scenarioConfigFile(named);
}

/** A bundled scenario: a folder of the scenarios directory (not `_`-prefixed). */
export interface BundledScenario {
  name: string;
  dir: string;
  description?: string;
}

/** The scenario folders under `root`, by name, with their scenario.yaml's description. */
export async function listScenarios(root: string): Promise<BundledScenario[]> {
  const entries = await readdir(root, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory() && !e.name.startsWith('_') && !e.name.startsWith('.')).map((e) => e.name);
  names.sort();
  return Promise.all(names.map(async (name) => ({ name, dir: path.join(root, name), description: (await readScenarioManifest(path.join(root, name))).description })));
}

/** What names an object across a base and its overlay: API group, kind, namespace (as written) and name. */
function identity(object: KubeObject): string {
  const apiVersion = String(object['apiVersion']);
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '';
  const metadata = (object['metadata'] ?? {}) as Record<string, unknown>;
  return `${group}\u0000${String(object['kind'])}\u0000${String(metadata['namespace'] ?? '')}\u0000${String(metadata['name'] ?? '')}`;
}

function describeObject(object: KubeObject): string {
  const metadata = (object['metadata'] ?? {}) as Record<string, unknown>;
  const namespace = typeof metadata['namespace'] === 'string' ? `${metadata['namespace']}/` : '';
  return `${String(object['apiVersion'])} ${String(object['kind'])} ${namespace}${String(metadata['name'] ?? '')}`;
}

/**
 * The base's documents with the overlay applied: replaced objects keep the base's place, new ones
 * follow in the overlay's order, `$delete` documents remove (and must name a base object).
 */
function applyOverlay(base: readonly ScenarioDocument[], overlay: readonly ScenarioDocument[]): ScenarioDocument[] {
  const merged = new Map<string, ScenarioDocument>();
  for (const doc of base) merged.set(identity(doc.object), doc);
  for (const doc of overlay) {
    const key = identity(doc.object);
    if (doc.object['$delete'] === true) {
      if (!merged.delete(key)) throw new ScenarioError(`${doc.source}: $delete names ${describeObject(doc.object)}, which the base does not have`);
    } else {
      merged.set(key, doc);
    }
  }
  return [...merged.values()];
}

/** Raw objects of a scenario folder (its bases first, when it overlays one) with the file each came from. */
export async function readScenarioDocuments(dir: string): Promise<ScenarioDocument[]> {
  // The farthest base first, each nearer folder overlaid on what is below it.
  const [farthest, ...nearer] = (await scenarioChain(dir)).reverse();
  let docs = await readFolderDocuments(farthest!);
  const marker = docs.find((doc) => doc.object['$delete'] === true);
  if (marker) throw new ScenarioError(`${marker.source}: $delete removes an object of a ${BASE_FOLDER}/ scenario, and ${farthest} overlays none`);
  for (const folder of nearer) docs = applyOverlay(docs, await readFolderDocuments(folder));
  return docs;
}

function isCrd(o: KubeObject): boolean {
  return o['kind'] === 'CustomResourceDefinition' && String(o['apiVersion']).startsWith('apiextensions.k8s.io/');
}

/**
 * Fills in what an API server would, in place: CRDs are registered first so that objects of
 * CRD-defined kinds get the CRD's scope whatever the file order; resourceVersions are assigned in
 * order from above the highest numeric one present.
 */
export function normalizeObjects(store: ObjectStore, docs: { object: KubeObject; source: string }[]): void {
  for (const { object } of docs) if (isCrd(object)) store.registry.registerCrd(object);
  store.seedResourceVersion(docs.map((d) => d.object));
  for (const { object, source } of docs) {
    try {
      store.normalize(object);
    } catch (err) {
      throw new ScenarioError(`${source}: ${(err as Error).message}`);
    }
  }
}

/**
 * Loads a scenario folder: every *.yaml, *.yml, *.json under it (recursively) except
 * rollout-doctor.yaml, expected.yaml and anything under a logs/ folder. Documents without
 * apiVersion and kind are skipped, Lists expanded, namespaced objects without a namespace put in
 * `default`, a missing resourceVersion filled from a counter. Returned in file order (documents in
 * file order); a later object with the same type, namespace and name replaces the earlier one
 * when stored. A folder beside a `_base/` folder overlays it (see the top of this file).
 */
export async function loadScenario(dir: string): Promise<KubeObject[]> {
  const docs = await readScenarioDocuments(dir);
  normalizeObjects(new ObjectStore(), docs);
  return docs.map((d) => d.object);
}
