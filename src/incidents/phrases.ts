/**
 * The words of an incident's summary: a short phrase per check for one or several of its results
 * ("controller crash-looping", "2 Rollouts not progressing"), read from the same typed details the
 * rules match on, and the summary that joins them cause -> effect -> effect.
 */
import type { StoredResult } from '../engine/types.js';
import { detailsOf } from './rules.js';

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `Not Found` from `... failed to download file from <url>: response code Not Found` (utils/plugin/downloader.go, v1.8+). */
function responseCode(line: string): string | undefined {
  return /response code ([^"]+?)"?$/.exec(line)?.[1];
}

function pluginPhrase(result: StoredResult): string {
  const d = detailsOf(result, 'controller-plugins');
  if (!d || !('plugin' in d)) return `controller ConfigMap ${result.target} unreadable`;
  if (d.failureLine !== undefined) {
    const code = responseCode(d.failureLine);
    return /Failed to download plugins/.test(d.failureLine) ? `plugin ${d.plugin} cannot be downloaded${code ? ` (${code})` : ''}` : `controller cannot start with plugin ${d.plugin}`;
  }
  if (result.status === 'unknown') return `plugin ${d.plugin} unverifiable`;
  if (!d.configured) return `plugin ${d.plugin} not configured`;
  return d.loaded === false ? `plugin ${d.plugin} not loaded by the controller` : `plugin ${d.plugin} reported by the controller`;
}

function statusPhrase(results: readonly StoredResult[]): string {
  const groups = new Map<string, number>();
  for (const result of results) {
    const d = detailsOf(result, 'rollout-status');
    const phase = d && 'phase' in d ? d.phase : 'missing';
    const what = phase === 'Progressing' || phase === 'Paused' ? 'not progressing' : phase === 'Degraded' ? `Degraded${d && 'degradedReason' in d && d.degradedReason ? ` (${d.degradedReason})` : ''}` : phase === 'missing' ? 'missing' : phase;
    groups.set(what, (groups.get(what) ?? 0) + 1);
  }
  if (results.length === 1) return `Rollout ${results[0]!.target} ${[...groups.keys()][0]}`;
  return [...groups].map(([what, n]) => `${plural(n, 'Rollout')} ${what}`).join(', ');
}

function servicePhrase(result: StoredResult): string {
  const d = detailsOf(result, 'rollout-services');
  const broken = d && 'services' in d ? d.services.find((s) => s.problem !== undefined) : undefined;
  if (!d || !('services' in d) || !broken) return `Services of Rollout ${result.target} broken`;
  const problem = { missing: 'does not exist', wrongHash: 'selects the wrong ReplicaSet', noPods: 'selects no pod', noReadyPods: 'selects no Ready pod', noEndpoints: 'has no ready endpoint' }[broken.problem!];
  return `${broken.role} Service ${d.namespace}/${broken.name} ${problem}`;
}

function podsPhrase(result: StoredResult): string {
  const d = detailsOf(result, 'rollout-pods');
  const reason = d && 'problems' in d ? (Object.entries(d.problems).find(([, n]) => n > 0)?.[0] ?? (d.replicaSets.some((rs) => rs.replicaFailure) ? 'ReplicaFailure' : undefined)) : undefined;
  return `pods of Rollout ${result.target} not starting${reason ? ` (${reason})` : ''}`;
}

function analysisPhrase(result: StoredResult): string {
  const d = detailsOf(result, 'rollout-analysis');
  const phase = d && 'runs' in d ? ['Error', 'Failed', 'Inconclusive'].find((p) => d.runs.some((run) => run.phase === p || run.metrics.some((m) => m.phase === p))) : undefined;
  return `analysis of Rollout ${result.target} ${phase ? `${phase === 'Error' ? 'errored' : phase === 'Failed' ? 'failed' : 'inconclusive'}` : result.status === 'warn' ? 'about to stop' : 'failing'}`;
}

function preflightPhrase(result: StoredResult): string {
  const d = detailsOf(result, 'analysis-preflight');
  const bad = d && 'metrics' in d ? d.metrics.find((m) => !m.dryRun && (m.phase === 'Error' || m.phase === 'Failed' || m.phase === 'Inconclusive')) : undefined;
  if (!d || !('metrics' in d) || !bad) return `analysis template ${result.target} failing`;
  return `metric ${bad.metric} of ${d.kind} ${result.target} measures ${bad.phase} now`;
}

const API_STATE: Record<string, string> = {
  unreachable: 'Kubernetes API unreachable',
  tls_error: 'TLS to the Kubernetes API fails',
  unauthorized: "Kubernetes API rejects rollout-doctor's credentials",
};

/** The checks whose `unknown` results have words of their own (the others: `argocd-sync litellm/litellm unknown`). */
const OWN_UNKNOWN = new Set(['controller-plugins', 'kube-api']);

/** The phrase for one root or for the effects of one check at one step of a chain. */
export function phrase(check: string, results: readonly StoredResult[]): string {
  const one = results.length === 1 ? results[0]! : undefined;
  if (!OWN_UNKNOWN.has(check) && results.every((r) => r.status === 'unknown')) {
    // Results the runner pointed at their cause (`blockedBy`, src/engine/runner.ts) were not checked at all.
    if (results.every((r) => typeof r.details.blockedBy === 'string')) return one ? `${check} not checked` : `${check} not checked (${results.length} targets)`;
    return one ? `${check} ${one.target} unknown` : `${plural(results.length, `${check} result`)} unknown`;
  }
  switch (check) {
    case 'controller-pods': {
      const d = one ? detailsOf(one, 'controller-pods') : undefined;
      return d && 'crashLooping' in d && d.crashLooping ? 'controller crash-looping' : 'controller not available';
    }
    case 'controller-plugins':
      if (one) return pluginPhrase(one);
      return results.every((r) => r.status === 'unknown') ? `${plural(results.length, 'plugin')} unverifiable` : `${plural(results.length, 'plugin')} not loaded`;
    case 'controller-rbac': {
      const d = one ? detailsOf(one, 'controller-rbac') : undefined;
      return d && 'denied' in d ? `controller may not ${d.denied.join(', ')} ${one!.target}` : `controller lacks ${plural(results.length, 'permission')}`;
    }
    case 'self-rbac': {
      const d = one ? detailsOf(one, 'self-rbac') : undefined;
      if (d && 'noBinding' in d) return 'rollout-doctor has no RBAC binding';
      return d && 'missing' in d && d.missing ? `rollout-doctor may not ${[...new Set(d.missing.map((m) => m.verb))].join(', ')} ${one!.target}` : `rollout-doctor lacks ${plural(results.length, 'permission')}`;
    }
    case 'kube-api': {
      const d = one ? detailsOf(one, 'kube-api') : undefined;
      if (d && API_STATE[d.state]) return API_STATE[d.state]!;
      return d?.apiError ? `Kubernetes API answers errors (${d.apiError.status || d.apiError.reason})` : 'Kubernetes API failing';
    }
    case 'rollout-status':
      return statusPhrase(results);
    case 'rollout-traffic':
      return one ? `canary of Rollout ${one.target} without its traffic object` : `${plural(results.length, 'canary', 'canaries')} without their traffic object`;
    case 'rollout-references': {
      const d = one ? detailsOf(one, 'rollout-references') : undefined;
      return d && 'missing' in d && d.missing.length > 0 ? `Rollout ${one!.target} references a missing ${d.missing[0]}${d.missing.length > 1 ? ` and ${d.missing.length - 1} more` : ''}` : `${plural(results.length, 'Rollout')} with missing references`;
    }
    case 'rollout-services':
      return one ? servicePhrase(one) : `Services of ${plural(results.length, 'Rollout')} without ready endpoints`;
    case 'rollout-pods':
      return one ? podsPhrase(one) : `pods of ${plural(results.length, 'Rollout')} not starting`;
    case 'rollout-analysis':
      return one ? analysisPhrase(one) : `analysis of ${plural(results.length, 'Rollout')} failing`;
    case 'analysis-preflight':
      return one ? preflightPhrase(one) : `${plural(results.length, 'analysis template')} failing`;
    case 'endpoint':
      return one ? `endpoint ${one.target} down` : `${plural(results.length, 'endpoint')} down`;
    default:
      return one ? `${check} ${one.target} ${one.status}` : `${plural(results.length, `${check} result`)} ${[...new Set(results.map((r) => r.status))].join(' or ')}`;
  }
}

/** The results of one step of a chain, grouped by check: `controller crash-looping, 2 plugins unverifiable`. */
export function stepPhrase(step: readonly StoredResult[]): string {
  const byCheck = new Map<string, StoredResult[]>();
  for (const result of step) {
    const list = byCheck.get(result.check);
    if (list) list.push(result);
    else byCheck.set(result.check, [result]);
  }
  return [...byCheck].map(([check, results]) => phrase(check, results)).join(', ');
}

/** `cause -> effect -> effect`: the root's phrase, then each step of the chain (what the previous step explains). */
export function chainSummary(root: StoredResult, steps: readonly (readonly StoredResult[])[]): string {
  return [phrase(root.check, [root]), ...steps.map(stepPhrase)].join(' -> ');
}
