/**
 * Reads and validates a config file. Every error names the file and the path inside it, the way
 * blackbox_exporter's invalid-config fixtures do, so an operator can fix it without guessing.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { core } from 'zod';
import { unknownNameMessage } from '../did-you-mean.js';
import { yamlToJs } from '../yaml-aliases.js';
import { CHECK_IDS, type Config, configSchema } from './schema.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** `endpoints[1].url`, `checks.rollout-status.stuckAfter`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/** The keys an object in the schema allows at `at` (for "did you mean" hints). */
function allowedKeysAt(at: readonly PropertyKey[]): string[] {
  let node: core.$ZodType | undefined = configSchema;
  const unwrap = (n: core.$ZodType): core.$ZodType => {
    const def = n._zod.def as unknown as { type: string; innerType?: core.$ZodType; in?: core.$ZodType };
    if (def.innerType) return unwrap(def.innerType);
    if (def.type === 'pipe' && def.in) return unwrap(def.in);
    return n;
  };
  for (const segment of at) {
    if (!node) return [];
    const def = unwrap(node)._zod.def as unknown as { type: string; shape?: Record<string, core.$ZodType>; element?: core.$ZodType; valueType?: core.$ZodType };
    if (def.type === 'object') node = def.shape?.[String(segment)];
    else if (def.type === 'array') node = def.element;
    else if (def.type === 'record') node = def.valueType;
    else return [];
  }
  if (!node) return [];
  const def = unwrap(node)._zod.def as unknown as { type: string; shape?: Record<string, core.$ZodType> };
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function unknownKeyMessage(at: readonly PropertyKey[], key: string): string {
  return unknownNameMessage('unknown key', key, allowedKeysAt(at));
}

function describeIssue(issue: core.$ZodIssue): { path: PropertyKey[]; message: string } {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    if (keys.length === 1) return { path: [...issue.path, keys[0] as string], message: unknownKeyMessage(issue.path, keys[0] as string) };
    return { path: issue.path, message: `unknown keys ${keys.map((k) => `"${k}"`).join(', ')} (allowed: ${allowedKeysAt(issue.path).join(', ')})` };
  }
  if (issue.code === 'invalid_type') {
    const received = /received (\w+)/.exec(issue.message)?.[1];
    // A token written into the config would be in every copy of it: it is never read from there.
    if (issue.path.at(-1) === 'bearerToken' && received === 'string') {
      return { path: issue.path, message: 'a token is not written in the config: use {env: NAME} (an environment variable) or {file: PATH} (a file, relative to the config)' };
    }
    return { path: issue.path, message: `expected ${issue.expected}${received ? `, got ${received}` : ''}` };
  }
  if (issue.code === 'invalid_value') {
    return { path: issue.path, message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` };
  }
  if (issue.code === 'custom' && typeof issue.params?.unknownCheck === 'string') {
    return { path: issue.path, message: unknownNameMessage(issue.message, issue.params.unknownCheck, CHECK_IDS) };
  }
  return { path: issue.path, message: issue.message };
}

/** Validates an already parsed document; `file` is only used in messages. */
export function parseConfig(raw: unknown, file: string): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const { path: at, message } = describeIssue(issue);
    const where = formatPath(at);
    return `${file}: ${where ? `${where}: ` : ''}${message}`;
  });
  throw new ConfigError(lines.join('\n'));
}

/** The effective config and where it came from (for log lines and relative secret files). */
export interface LoadedConfig {
  config: Config;
  /** Absent for built-in defaults. */
  file?: string;
  /** Directory relative paths in the config (token files) resolve against. */
  baseDir: string;
}

export async function loadConfigFile(file: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new ConfigError(`${file}: is a directory, not a config file${await configInDirectory(file)}`);
    throw new ConfigError(`${file}: cannot read config: ${code === 'ENOENT' ? 'no such file' : String((error as Error).message)}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const [syntaxError] = doc.errors;
  if (syntaxError) {
    // The first YAML error is the one to fix; the ones after it are usually its echoes.
    const pos = lineCounter.linePos(syntaxError.pos[0]);
    throw new ConfigError(`${file}: line ${pos.line}, column ${pos.col}: ${syntaxError.message.split('\n')[0]}`);
  }
  const baseDir = path.dirname(path.resolve(file));
  return { config: resolvePaths(parseConfig(yamlToJs(doc, file, ConfigError), file), baseDir), file, baseDir };
}

/** For a directory given as the config: the one config file in it, as a hint. */
async function configInDirectory(dir: string): Promise<string> {
  const yamlFiles = (await readdir(dir).catch(() => [] as string[])).filter((name) => /\.ya?ml$/.test(name));
  return yamlFiles.length === 1 ? ` (did you mean ${path.join(dir, yamlFiles[0]!)}?)` : ' (give the path of a YAML file, e.g. checks/example.yaml)';
}

/** Relative file paths in the config (token files) are relative to the config file. */
export function resolvePaths(config: Config, baseDir: string): Config {
  for (const endpoint of config.endpoints) {
    if (endpoint.bearerToken?.file) endpoint.bearerToken.file = path.resolve(baseDir, endpoint.bearerToken.file);
  }
  return config;
}

export function defaultConfig(): LoadedConfig {
  return { config: parseConfig({}, '<defaults>'), baseDir: process.cwd() };
}
