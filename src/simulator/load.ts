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
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ObjectStore, type KubeObject } from './store.js';

/** Files beside scenario objects that are not objects. */
const EXCLUDED_FILES = new Set(['rollout-doctor.yaml', 'expected.yaml']);
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
    out.push(...expandDocument(doc.toJSON()));
  });
  return out;
}

export interface ScenarioDocument {
  object: KubeObject;
  source: string;
}

/** The documents of one folder's own files, in stable order. */
async function readFolderDocuments(dir: string): Promise<ScenarioDocument[]> {
  const out: ScenarioDocument[] = [];
  for (const rel of await listScenarioFiles(dir)) {
    const file = path.join(dir, rel);
    for (const object of parseObjects(await readFile(file, 'utf8'), file)) out.push({ object, source: file });
  }
  return out;
}

/** The folder name of the scenario a sibling folder overlays. */
const BASE_FOLDER = '_base';

/** The base scenario `dir` overlays, when it has one. */
async function scenarioBase(dir: string): Promise<string | undefined> {
  const resolved = path.resolve(dir);
  if (path.basename(resolved) === BASE_FOLDER) return undefined;
  const base = path.join(path.dirname(resolved), BASE_FOLDER);
  return (await stat(base).catch(() => undefined))?.isDirectory() ? base : undefined;
}

/** The folder pod logs are served from: the scenario's own logs/, else its base's. */
export async function scenarioLogsDir(dir: string): Promise<string> {
  const own = path.join(dir, 'logs');
  if ((await stat(own).catch(() => undefined))?.isDirectory()) return own;
  const base = await scenarioBase(dir);
  return base === undefined ? own : path.join(base, 'logs');
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

/** Raw objects of a scenario folder (its base first, when it overlays one) with the file each came from. */
export async function readScenarioDocuments(dir: string): Promise<ScenarioDocument[]> {
  const base = await scenarioBase(dir);
  const own = await readFolderDocuments(dir);
  if (base !== undefined) return applyOverlay(await readFolderDocuments(base), own);
  const marker = own.find((doc) => doc.object['$delete'] === true);
  if (marker) throw new ScenarioError(`${marker.source}: $delete removes an object of a ${BASE_FOLDER}/ scenario, and ${dir} overlays none`);
  return own;
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
