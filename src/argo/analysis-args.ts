/**
 * Analysis arguments as the controller resolves them for a Rollout's AnalysisRun: the template's
 * args, overridden by the Rollout's analysis args (value, or valueFrom podTemplateHashValue /
 * fieldRef), then `{{args.name}}` substituted in every string of a metric (utils/template/template.go
 * ResolveArgs: tags are trimmed, an unknown tag fails to resolve). Values that only exist when a run
 * is created are reported as such: a Secret (secretKeyRef, never read here).
 *
 * Upstream: argo-rollouts utils/analysis/factory.go BuildArgumentsForRolloutAnalysisRun and
 * extractValueFromRollout, utils/template/template.go ResolveArgs; the same at v1.7.2, v1.8.4,
 * v1.9.1, v1.10.0-rc1 and master 9f8d111d8.
 */
import type { AnalysisArg, Rollout } from '../kube/types.js';

export interface ArgValue {
  value: string;
  /** Where the value came from, when not a literal (podTemplateHashValue, fieldRef). */
  from?: string;
}

export interface ResolvedArgs {
  values: Map<string, ArgValue>;
  /** Args whose value only exists at run time, with why. */
  runtimeOnly: Map<string, string>;
  /** Args with no value from anywhere (the controller cannot create the run). */
  missing: Set<string>;
}

interface TemplateArg {
  name?: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name?: string; key?: string } };
}

/** extractValueFromRollout (utils/analysis/factory.go): a path through the Rollout as JSON, ending in a primitive. */
function fieldFromRollout(rollout: Rollout, path: string): string | undefined {
  const labelLike = /^metadata\.(labels|annotations)\[['"](.+)['"]\]$/.exec(path);
  if (labelLike) return rollout.metadata[labelLike[1] as 'labels' | 'annotations']?.[labelLike[2]!];
  let node: unknown = rollout;
  for (const section of path.split(/[.[\]]+/).filter(Boolean)) {
    if (Array.isArray(node)) {
      const i = Number(section);
      if (!Number.isInteger(i) || i >= node.length) return undefined;
      node = node[i];
    } else if (node && typeof node === 'object') {
      node = (node as Record<string, unknown>)[section];
    } else {
      return undefined;
    }
  }
  if (node === undefined || node === null || typeof node === 'object') return undefined;
  return String(node);
}

function stableHashOf(rollout: Rollout): string | undefined {
  return rollout.status?.stableRS || rollout.status?.canary?.stableRS || undefined;
}

/**
 * The args a run created now from `rollout` would get. podTemplateHashValue resolves to the current
 * revision's hashes (Latest -> status.currentPodHash, Stable -> status.stableRS): a new revision gets
 * a new hash, so this is the nearest query that can run before it exists.
 */
export function resolveArgs(templateArgs: readonly TemplateArg[], rolloutArgs: readonly AnalysisArg[], rollout: Rollout): ResolvedArgs {
  const out: ResolvedArgs = { values: new Map(), runtimeOnly: new Map(), missing: new Set() };
  const supplied = new Map(rolloutArgs.filter((a) => a.name).map((a) => [a.name!, a]));
  const names = [...new Set([...templateArgs.map((a) => a.name).filter((n): n is string => Boolean(n)), ...supplied.keys()])];
  for (const name of names) {
    const fromRollout = supplied.get(name);
    const fromTemplate = templateArgs.find((a) => a.name === name);
    if (fromRollout?.value !== undefined && fromRollout.value !== null) {
      out.values.set(name, { value: String(fromRollout.value) });
      continue;
    }
    const valueFrom = fromRollout?.valueFrom as { podTemplateHashValue?: string; fieldRef?: { fieldPath?: string } } | undefined;
    if (valueFrom?.podTemplateHashValue) {
      const which = valueFrom.podTemplateHashValue;
      const hash = which === 'Stable' ? stableHashOf(rollout) : rollout.status?.currentPodHash;
      if (hash) out.values.set(name, { value: hash, from: `podTemplateHashValue ${which} = ${which === 'Stable' ? 'status.stableRS' : 'status.currentPodHash'} (the current revision's hash)` });
      else out.runtimeOnly.set(name, `podTemplateHashValue ${which}: the Rollout has no ${which === 'Stable' ? 'stable' : 'current'} ReplicaSet yet`);
      continue;
    }
    if (valueFrom?.fieldRef?.fieldPath) {
      const value = fieldFromRollout(rollout, valueFrom.fieldRef.fieldPath);
      if (value !== undefined) out.values.set(name, { value, from: `fieldRef ${valueFrom.fieldRef.fieldPath}` });
      else out.missing.add(name);
      continue;
    }
    if (fromTemplate?.value !== undefined && fromTemplate.value !== null) {
      out.values.set(name, { value: String(fromTemplate.value) });
      continue;
    }
    const secret = fromTemplate?.valueFrom?.secretKeyRef;
    if (secret) {
      out.runtimeOnly.set(name, `comes from Secret ${secret.name ?? '?'} key ${secret.key ?? '?'}, which rollout-doctor does not read`);
      continue;
    }
    out.missing.add(name);
  }
  return out;
}

export interface Substitution<T> {
  value: T;
  /** Tags (`args.x`) that no arg resolves. */
  unresolved: string[];
  /** Arg names used. */
  used: string[];
}

/** `{{ args.name }}` substitution over every string in a JSON-like value (the metric). */
export function substituteArgs<T>(input: T, args: ReadonlyMap<string, ArgValue>): Substitution<T> {
  const unresolved = new Set<string>();
  const used = new Set<string>();
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') {
      return node.replace(/\{\{([\s\S]*?)\}\}/g, (match, tag: string) => {
        const clean = tag.trim();
        const name = clean.startsWith('args.') ? clean.slice('args.'.length) : undefined;
        const arg = name !== undefined ? args.get(name) : undefined;
        if (arg) {
          used.add(name!);
          return arg.value;
        }
        unresolved.add(clean);
        return '';
      });
    }
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    return node;
  };
  return { value: walk(input) as T, unresolved: [...unresolved], used: [...used] };
}
