/**
 * Offline validation of the manifests in deploy/: built-in kinds through kubernetes-models (the
 * OpenAPI schemas of Kubernetes: types, formats, required fields), custom resources through
 * structural checks of the fields we use (their operators' CRDs are not available offline).
 * Each validator returns the problems found, as `<kind>/<name>: <path>: <problem>` lines.
 */
import { Deployment } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { KubeObject } from './helpers.js';

interface Validatable {
  validate(): void;
}

const BUILTIN: Record<string, (o: KubeObject) => Validatable> = {
  'v1/Namespace': (o) => new Namespace(o as never),
  'v1/ServiceAccount': (o) => new ServiceAccount(o as never),
  'v1/ConfigMap': (o) => new ConfigMap(o as never),
  'v1/Service': (o) => new Service(o as never),
  'apps/v1/Deployment': (o) => new Deployment(o as never),
  'networking.k8s.io/v1/NetworkPolicy': (o) => new NetworkPolicy(o as never),
  'rbac.authorization.k8s.io/v1/ClusterRole': (o) => new ClusterRole(o as never),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': (o) => new ClusterRoleBinding(o as never),
  'rbac.authorization.k8s.io/v1/Role': (o) => new Role(o as never),
  'rbac.authorization.k8s.io/v1/RoleBinding': (o) => new RoleBinding(o as never),
};

const CUSTOM: Record<string, (o: KubeObject, problem: Problem) => void> = {
  'operator.victoriametrics.com/v1beta1/VMServiceScrape': (o, problem) => validateScrape(o, 'relabelConfigs', problem),
  'monitoring.coreos.com/v1/ServiceMonitor': (o, problem) => validateScrape(o, 'relabelings', problem),
  'operator.victoriametrics.com/v1beta1/VMRule': (o, problem) => validateRuleGroups(o, problem, ['debug', 'update_entries_limit']),
  'monitoring.coreos.com/v1/PrometheusRule': (o, problem) => validateRuleGroups(o, problem, []),
  'argoproj.io/v1alpha1/Application': (o, problem) => validateApplication(o, problem),
};

/** Kinds whose objects live in a namespace (the rest are cluster-scoped). */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

type Problem = (path: string, text: string) => void;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Prometheus durations: 30s, 5m, 1h30m. */
export const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringMap(value: unknown): boolean {
  return isRecord(value) && Object.values(value).every((v) => typeof v === 'string');
}

function unknownKeys(value: Record<string, unknown>, allowed: readonly string[]): string[] {
  return Object.keys(value).filter((key) => !allowed.includes(key));
}

export function validateObject(o: KubeObject): string[] {
  const problems: string[] = [];
  const name = `${o?.kind ?? '<no kind>'}/${o?.metadata?.name ?? '<no name>'}`;
  const problem: Problem = (path, text) => problems.push(`${name}: ${path}: ${text}`);
  if (!isRecord(o) || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string' || !isRecord(o.metadata)) {
    problem('.', 'not a Kubernetes object (apiVersion, kind, metadata)');
    return problems;
  }
  if (!DNS_SUBDOMAIN.test(o.metadata.name ?? '')) problem('metadata.name', `"${o.metadata.name}" is not a DNS subdomain name`);
  const isNamespaced = !CLUSTER_SCOPED.has(o.kind);
  if (isNamespaced && !o.metadata.namespace) problem('metadata.namespace', 'missing on a namespaced object');
  if (!isNamespaced && o.metadata.namespace) problem('metadata.namespace', 'set on a cluster-scoped object');
  const key = `${o.apiVersion}/${o.kind}`;
  const builtin = BUILTIN[key];
  const custom = CUSTOM[key];
  if (builtin) {
    try {
      builtin(o).validate();
    } catch (error) {
      problem('.', (error as Error).message);
    }
  } else if (custom) {
    custom(o, problem);
  } else {
    problem('.', `no validator for ${key}: add it to test/deploy/validate.ts`);
  }
  return problems;
}

function validateScrape(o: KubeObject, relabelField: 'relabelConfigs' | 'relabelings', problem: Problem): void {
  const spec = o['spec'];
  if (!isRecord(spec)) return problem('spec', 'missing');
  if (!isRecord(spec['selector']) || !isStringMap((spec['selector'] as Record<string, unknown>)['matchLabels'])) problem('spec.selector.matchLabels', 'must be a map of labels');
  const namespaces = isRecord(spec['namespaceSelector']) ? (spec['namespaceSelector'] as Record<string, unknown>)['matchNames'] : undefined;
  if (namespaces !== undefined && !(Array.isArray(namespaces) && namespaces.every((n) => typeof n === 'string'))) problem('spec.namespaceSelector.matchNames', 'must be a list of names');
  const endpoints = spec['endpoints'];
  if (!Array.isArray(endpoints) || endpoints.length === 0) return problem('spec.endpoints', 'must be a non-empty list');
  for (const [i, endpoint] of endpoints.entries()) {
    const at = `spec.endpoints[${i}]`;
    if (!isRecord(endpoint)) {
      problem(at, 'not an object');
      continue;
    }
    for (const key of unknownKeys(endpoint, ['port', 'path', 'scheme', 'interval', 'scrapeTimeout', 'honorLabels', relabelField, 'metricRelabelConfigs', 'metricRelabelings'])) {
      problem(`${at}.${key}`, 'unknown field');
    }
    if (typeof endpoint['port'] !== 'string') problem(`${at}.port`, 'must name a Service port');
    if (typeof endpoint['path'] !== 'string' || !endpoint['path'].startsWith('/')) problem(`${at}.path`, 'must be an absolute path');
    for (const field of ['interval', 'scrapeTimeout']) {
      if (endpoint[field] !== undefined && !DURATION.test(String(endpoint[field]))) problem(`${at}.${field}`, `"${String(endpoint[field])}" is not a duration`);
    }
    const relabels = endpoint[relabelField] ?? [];
    if (!Array.isArray(relabels)) {
      problem(`${at}.${relabelField}`, 'must be a list');
      continue;
    }
    for (const [j, relabel] of relabels.entries()) {
      const rat = `${at}.${relabelField}[${j}]`;
      if (!isRecord(relabel)) {
        problem(rat, 'not an object');
        continue;
      }
      for (const key of unknownKeys(relabel, ['action', 'sourceLabels', 'separator', 'targetLabel', 'regex', 'modulus', 'replacement'])) problem(`${rat}.${key}`, 'unknown field');
      const action = String(relabel['action'] ?? 'replace').toLowerCase();
      if (!['replace', 'keep', 'drop', 'hashmod', 'labelmap', 'labeldrop', 'labelkeep', 'lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(action)) problem(`${rat}.action`, `unknown action ${action}`);
      if (action === 'replace' && !LABEL_NAME.test(String(relabel['targetLabel'] ?? ''))) problem(`${rat}.targetLabel`, 'a replace needs a valid target label');
    }
  }
}

function validateRuleGroups(o: KubeObject, problem: Problem, extraRuleKeys: readonly string[]): void {
  const spec = o['spec'];
  if (!isRecord(spec)) return problem('spec', 'missing');
  const groups = spec['groups'];
  if (!Array.isArray(groups) || groups.length === 0) return problem('spec.groups', 'must be a non-empty list');
  const groupNames = new Set<string>();
  for (const [i, group] of groups.entries()) {
    const at = `spec.groups[${i}]`;
    if (!isRecord(group) || typeof group['name'] !== 'string' || group['name'] === '') {
      problem(`${at}.name`, 'missing');
      continue;
    }
    if (groupNames.has(group['name'])) problem(`${at}.name`, `duplicate group ${group['name']}`);
    groupNames.add(group['name']);
    if (group['interval'] !== undefined && !DURATION.test(String(group['interval']))) problem(`${at}.interval`, 'not a duration');
    const rules = group['rules'];
    if (!Array.isArray(rules) || rules.length === 0) {
      problem(`${at}.rules`, 'must be a non-empty list');
      continue;
    }
    for (const [j, rule] of rules.entries()) {
      const rat = `${at}.rules[${j}]`;
      if (!isRecord(rule)) {
        problem(rat, 'not an object');
        continue;
      }
      for (const key of unknownKeys(rule, ['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations', ...extraRuleKeys])) problem(`${rat}.${key}`, 'unknown field');
      const isAlert = typeof rule['alert'] === 'string';
      if (isAlert === (typeof rule['record'] === 'string')) problem(rat, 'needs exactly one of alert and record');
      if (typeof rule['expr'] !== 'string' || rule['expr'].trim() === '') problem(`${rat}.expr`, 'must be a non-empty PromQL expression');
      for (const field of ['for', 'keep_firing_for']) {
        if (rule[field] !== undefined && !DURATION.test(String(rule[field]))) problem(`${rat}.${field}`, `"${String(rule[field])}" is not a duration`);
      }
      for (const field of ['labels', 'annotations']) {
        if (rule[field] !== undefined && !isStringMap(rule[field])) problem(`${rat}.${field}`, 'must be a map of strings');
      }
      if (!isAlert) continue;
      const labels = (rule['labels'] ?? {}) as Record<string, string>;
      const annotations = (rule['annotations'] ?? {}) as Record<string, string>;
      if (!['critical', 'warning', 'info'].includes(labels['severity'] ?? '')) problem(`${rat}.labels.severity`, 'must be critical, warning or info');
      for (const annotation of ['summary', 'description', 'runbook_url']) {
        if (!annotations[annotation]) problem(`${rat}.annotations.${annotation}`, 'missing');
      }
      if (annotations['runbook_url'] && !/^https?:\/\//.test(annotations['runbook_url'])) problem(`${rat}.annotations.runbook_url`, 'must be an http(s) URL');
    }
  }
}

/** Argo CD sync options (Application spec.syncPolicy.syncOptions) and the values they take. */
const SYNC_OPTIONS: Record<string, readonly string[]> = {
  Validate: ['true', 'false'],
  CreateNamespace: ['true', 'false'],
  PruneLast: ['true', 'false'],
  Replace: ['true', 'false'],
  ServerSideApply: ['true', 'false'],
  ApplyOutOfSyncOnly: ['true', 'false'],
  RespectIgnoreDifferences: ['true', 'false'],
  FailOnSharedResource: ['true', 'false'],
  SkipDryRunOnMissingResource: ['true', 'false'],
  PrunePropagationPolicy: ['foreground', 'background', 'orphan'],
};

function validateApplication(o: KubeObject, problem: Problem): void {
  const spec = o['spec'];
  if (!isRecord(spec)) return problem('spec', 'missing');
  for (const key of unknownKeys(spec, ['project', 'source', 'sources', 'destination', 'syncPolicy', 'ignoreDifferences', 'info', 'revisionHistoryLimit'])) problem(`spec.${key}`, 'unknown field');
  if (typeof spec['project'] !== 'string') problem('spec.project', 'missing');
  const source = spec['source'];
  if (!isRecord(source)) {
    problem('spec.source', 'missing');
  } else {
    for (const key of unknownKeys(source, ['repoURL', 'path', 'targetRevision', 'kustomize', 'directory', 'helm', 'plugin', 'chart', 'ref', 'name'])) problem(`spec.source.${key}`, 'unknown field');
    if (typeof source['repoURL'] !== 'string' || !/^(https:\/\/|ssh:\/\/|git@)/.test(source['repoURL'])) problem('spec.source.repoURL', 'must be a git URL');
    if (typeof source['path'] !== 'string') problem('spec.source.path', 'missing');
    if (typeof source['targetRevision'] !== 'string') problem('spec.source.targetRevision', 'missing');
  }
  const destination = spec['destination'];
  if (!isRecord(destination) || (typeof destination['server'] !== 'string') === (typeof destination['name'] !== 'string')) problem('spec.destination', 'needs exactly one of server and name');
  const sync = spec['syncPolicy'];
  if (sync === undefined) return;
  if (!isRecord(sync)) return problem('spec.syncPolicy', 'not an object');
  for (const key of unknownKeys(sync, ['automated', 'syncOptions', 'retry', 'managedNamespaceMetadata'])) problem(`spec.syncPolicy.${key}`, 'unknown field');
  if (sync['automated'] !== undefined) {
    if (!isRecord(sync['automated'])) problem('spec.syncPolicy.automated', 'not an object');
    else for (const key of unknownKeys(sync['automated'], ['prune', 'selfHeal', 'allowEmpty', 'enabled'])) problem(`spec.syncPolicy.automated.${key}`, 'unknown field');
  }
  for (const [i, option] of ((sync['syncOptions'] as unknown[] | undefined) ?? []).entries()) {
    const [name, value] = String(option).split('=');
    if (!name || !SYNC_OPTIONS[name]) problem(`spec.syncPolicy.syncOptions[${i}]`, `unknown sync option ${String(option)}`);
    else if (!SYNC_OPTIONS[name].includes(value ?? '')) problem(`spec.syncPolicy.syncOptions[${i}]`, `${name} takes ${SYNC_OPTIONS[name].join(' or ')}`);
  }
  const retry = sync['retry'];
  if (isRecord(retry) && isRecord(retry['backoff'])) {
    for (const field of ['duration', 'maxDuration']) {
      const value = (retry['backoff'] as Record<string, unknown>)[field];
      if (value !== undefined && !DURATION.test(String(value))) problem(`spec.syncPolicy.retry.backoff.${field}`, 'not a duration');
    }
  }
}
