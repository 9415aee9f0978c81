/**
 * The correlation step as a pure function (src/incidents/correlate.ts): results built as data, as
 * the store holds them, for what the fixture cases cannot show on a simulated cluster (kube-api,
 * which lands with another change; an API error's shape), and for the model itself: chains, muted
 * results, order, stable ids, and the `recovering` hold-down across cycles.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Status, StoredResult } from '../../src/engine/types.js';
import { type CorrelateOptions, correlate, type IncidentMemory, incidentId } from '../../src/incidents/correlate.js';
import { INCIDENT_RULES } from '../../src/incidents/rules.js';
import { headings, readRepoFile } from '../helpers/markdown.js';

const T0 = Date.parse('2026-11-26T14:00:00Z');
const AT = { nowMs: T0, holdDownMs: 300_000 };

function result(check: string, target: string, status: Status, details: Record<string, unknown> = {}, extra: Partial<StoredResult> = {}): StoredResult {
  return { check, target, status, summary: `${check} ${target} is ${status}`, remediation: status === 'ok' ? [] : [`fix ${target}`], details, since: '2026-11-26T13:00:00.000Z', durationMs: 1, checkedAtMs: T0, origin: 'check', ...extra };
}

const rollout = (target: string) => ({ namespace: target.split('/')[0], rollout: target.split('/')[1] });

/** A Rollout that does not progress (a spec change the controller has not observed). */
function stuck(target: string): StoredResult {
  return result('rollout-status', target, 'warn', { ...rollout(target), phase: 'Progressing', message: 'waiting for rollout spec update to be observed', pauseReasons: [], stuck: true }, { rollout: target });
}

const controllerDown = () => result('controller-pods', 'argo-rollouts/argo-rollouts', 'fail', { deployment: 'argo-rollouts', namespace: 'argo-rollouts', pods: [], crashLooping: true, available: false });
const downloadFailed = (plugin = 'argoproj-labs/cilium') =>
  result('controller-plugins', plugin, 'fail', { plugin, configured: true, loaded: false, referencedBy: ['Rollout shop/web'], failureLine: 'Failed to download plugins: ...: response code Not Found' });

const refs = (list: readonly { check: string; target: string }[]) => list.map((r) => `${r.check} ${r.target}`);

function run(results: StoredResult[], memory?: IncidentMemory, options: CorrelateOptions = AT) {
  return correlate(results, memory, options);
}

describe('correlate: chains and incidents', () => {
  it('collapses a chain to its deepest cause: plugin download -> crash loop -> stuck Rollouts and unreadable plugin evidence', () => {
    const other = result('controller-plugins', 'argoproj-labs/metric-datadog', 'unknown', { plugin: 'argoproj-labs/metric-datadog', configured: true, referencedBy: [], reason: 'no running controller container to read the log of' });
    const { correlation } = run([downloadFailed(), other, controllerDown(), stuck('shop/web'), stuck('shop/api'), result('rollout-status', 'shop/ok', 'ok', { phase: 'Healthy' })]);
    expect(correlation.incidents).toHaveLength(1);
    const [incident] = correlation.incidents;
    expect(incident).toMatchObject({ root: { check: 'controller-plugins', target: 'argoproj-labs/cilium' }, status: 'fail', since: '2026-11-26T13:00:00.000Z', remediation: ['fix argoproj-labs/cilium'] });
    expect(refs(incident!.effects)).toEqual(['controller-pods argo-rollouts/argo-rollouts', 'controller-plugins argoproj-labs/metric-datadog', 'rollout-status shop/api', 'rollout-status shop/web']);
    expect(incident!.summary).toBe('plugin argoproj-labs/cilium cannot be downloaded (Not Found) -> controller crash-looping -> plugin argoproj-labs/metric-datadog unverifiable, 2 Rollouts not progressing');
    expect(correlation.incidentOf.get('rollout-status\u0000shop/ok')).toBeUndefined();
    expect(correlation.explainedBy.get('rollout-status\u0000shop/web')).toEqual({ check: 'controller-plugins', target: 'argoproj-labs/cilium' });
    expect(correlation.explainedBy.has('controller-plugins\u0000argoproj-labs/cilium')).toBe(false);
  });

  it('makes every result no rule explains an incident of its own, with its own summary', () => {
    const lonely = result('endpoint', 'litellm', 'fail', { url: 'http://127.0.0.1:1/' });
    const { correlation } = run([lonely]);
    expect(correlation.incidents).toEqual([
      { id: incidentId(lonely), status: 'fail', root: { check: 'endpoint', target: 'litellm' }, summary: 'endpoint litellm is fail', effects: [], since: lonely.since, remediation: ['fix litellm'] },
    ]);
  });

  it('keeps muted results out: a muted cause explains nothing, a muted effect belongs to no incident', () => {
    const mutedEffect = { ...stuck('shop/web'), muted: true as const, muteReason: 'known' };
    const { correlation } = run([controllerDown(), mutedEffect, stuck('shop/api')]);
    expect(correlation.incidents.map((i) => refs(i.effects))).toEqual([['rollout-status shop/api']]);
    expect(correlation.incidentOf.has('rollout-status\u0000shop/web')).toBe(false);
    const mutedCause = { ...controllerDown(), muted: true as const, muteReason: 'maintenance' };
    expect(run([mutedCause, stuck('shop/web')]).correlation.incidents.map((i) => `${i.root.check} ${i.root.target}`)).toEqual(['rollout-status shop/web']);
  });

  it('sorts by status (fail, unknown, warn), then by size, then id; the status is the worst of root and effects', () => {
    const wrongKey = result('controller-plugins', 'argoproj-labs/cilium', 'warn', { plugin: 'argoproj-labs/cilium', configured: true, loaded: false, kind: 'metricProvider', referencedBy: ['Rollout shop/web'] });
    const references = result('rollout-references', 'shop/web', 'fail', { ...rollout('shop/web'), missing: ['traffic-router plugin argoproj-labs/cilium'], references: [{ kind: 'TrafficRouterPlugin', name: 'argoproj-labs/cilium', exists: false, usedBy: [] }] }, { rollout: 'shop/web' });
    const a = result('endpoint', 'a', 'warn');
    const b = result('endpoint', 'b', 'unknown');
    const { correlation } = run([a, b, wrongKey, references, stuck('shop/web'), result('endpoint', 'c', 'fail')]);
    expect(correlation.incidents.map((i) => `${i.status} ${i.root.target} ${i.effects.length}`)).toEqual(['fail argoproj-labs/cilium 2', 'fail c 0', 'unknown b 0', 'warn a 0']);
  });

  it('gives an incident the id of its root: sha256(check NUL target), 12 hex digits, the same every cycle', () => {
    const root = downloadFailed();
    expect(incidentId(root)).toBe(createHash('sha256').update('controller-plugins\u0000argoproj-labs/cilium').digest('hex').slice(0, 12));
    expect(run([root, controllerDown()]).correlation.incidents[0]!.id).toBe(incidentId(root));
    expect(run([controllerDown()]).correlation.incidents[0]!.id).toBe(incidentId(controllerDown()));
  });

  it('documents every rule, in table order: docs/incidents.md has a section per rule id', () => {
    const sections = headings(readRepoFile('docs/incidents.md')).filter((h) => h.level === 3).map((h) => h.text);
    expect(sections).toEqual(INCIDENT_RULES.map((r) => r.id));
  });
});

describe('correlate: rules that need data', () => {
  const unknownFrom = (check: string, target: string, apiError?: Record<string, unknown>, origin: StoredResult['origin'] = 'check') =>
    result(check, target, 'unknown', { reason: 'could not look', ...(apiError ? { apiError } : {}) }, { origin });

  it('kube-api unreachable explains every unknown that came from an unreachable, TLS-failing or timed-out API call, and nothing else', () => {
    const api = result('kube-api', 'homelab', 'unknown', { server: 'https://127.0.0.1:6443', state: 'unreachable', reason: 'connect ECONNREFUSED' });
    const listed = unknownFrom('rollout-status', '*', { reason: 'Unreachable', status: 0, verb: 'list', resource: 'rollouts.argoproj.io' }, 'engine');
    const timedOut = unknownFrom('controller-pods', 'argo-rollouts/argo-rollouts', { reason: 'Timeout', status: 0, verb: 'list', resource: 'pods' });
    const review = unknownFrom('self-rbac', 'core/pods', { reason: 'TLSError', status: 0, verb: 'create', resource: 'selfsubjectaccessreviews.authorization.k8s.io' });
    const forbidden = unknownFrom('argocd-sync', 'litellm/litellm', { reason: 'Forbidden', status: 403, verb: 'list', resource: 'applications.argoproj.io' });
    const probe = result('endpoint', 'litellm', 'unknown', { reason: 'bearer token env var LITELLM_KEY is not set' });
    const { correlation } = run([api, listed, timedOut, review, forbidden, probe]);
    expect(correlation.incidents.map((i) => `${i.root.check}: ${refs(i.effects).join(', ')}`)).toEqual([
      'kube-api: controller-pods argo-rollouts/argo-rollouts, rollout-status *, self-rbac core/pods',
      'argocd-sync: ',
      'endpoint: ',
    ]);
    expect(correlation.incidents[0]!.summary).toBe('Kubernetes API unreachable -> controller-pods argo-rollouts/argo-rollouts unknown, rollout-status * unknown, self-rbac core/pods unknown');
  });

  it('kube-api rejecting the credentials explains the 401s only; kube-api ok explains nothing', () => {
    const unauthorized = unknownFrom('rollout-pods', 'shop/web', { reason: 'Unauthorized', status: 401, verb: 'list', resource: 'pods' });
    const unreachable = unknownFrom('rollout-pods', 'shop/api', { reason: 'Unreachable', status: 0, verb: 'list', resource: 'pods' });
    const rejecting = result('kube-api', 'homelab', 'unknown', { state: 'unauthorized' });
    expect(run([rejecting, unauthorized, unreachable]).correlation.incidents.map((i) => `${i.root.target} ${i.effects.length}`)).toEqual(['homelab 1', 'shop/api 0']);
    const answering = result('kube-api', 'homelab', 'ok', { state: 'ok' });
    expect(run([answering, unauthorized]).correlation.incidents.map((i) => i.root.target)).toEqual(['shop/web']);
  });

  it("rollout-doctor's missing permission explains the 403 unknowns of the checks that need it, by resource (details.apiError); with no binding at all, every 403 of the checks it lists", () => {
    const missing = result('self-rbac', 'core/pods', 'fail', { group: 'core', resource: 'pods', missing: [{ verb: 'list', scope: 'cluster' }], affectedChecks: ['controller-pods', 'rollout-pods'], allowed: { list: false } });
    const recorded = unknownFrom('rollout-pods', 'shop/web', { reason: 'Forbidden', status: 403, verb: 'list', resource: 'pods' });
    const worded = unknownFrom('controller-pods', '*', { reason: 'Forbidden', status: 403, verb: 'list', resource: 'pods', namespace: 'argo-rollouts' }, 'engine');
    const otherResource = unknownFrom('rollout-pods', 'shop/api', { reason: 'Forbidden', status: 403, verb: 'list', resource: 'events' });
    const notAffected = unknownFrom('argocd-sync', 'shop/web', { reason: 'Forbidden', status: 403, verb: 'list', resource: 'pods' });
    const { correlation } = run([missing, recorded, worded, otherResource, notAffected]);
    expect(refs(correlation.incidents.find((i) => i.root.check === 'self-rbac')!.effects)).toEqual(['controller-pods *', 'rollout-pods shop/web']);
    expect(correlation.incidents).toHaveLength(3);
    const noBinding = result('self-rbac', '*', 'fail', { noBinding: true, permissions: [], affectedChecks: ['controller-pods', 'rollout-pods'] });
    const blocked = { ...otherResource, details: { ...otherResource.details, blockedBy: 'self-rbac' } };
    const none = run([noBinding, recorded, worded, blocked, notAffected]).correlation;
    expect(none.incidents.map((i) => `${i.root.check}: ${refs(i.effects).join(', ')}`)).toEqual(['self-rbac: controller-pods *, rollout-pods shop/api, rollout-pods shop/web', 'argocd-sync: ']);
  });

  it('a plugin configured under another key explains the references and the stuck status of the Rollouts that use it', () => {
    const wrongKey = result('controller-plugins', 'argoproj-labs/cilium', 'warn', { plugin: 'argoproj-labs/cilium', configured: true, loaded: false, kind: 'metricProvider', configKey: 'metricProviderPlugins', referencedBy: ['Rollout shop/web', 'AnalysisTemplate shop/t'] });
    const references = result('rollout-references', 'shop/web', 'fail', { ...rollout('shop/web'), missing: ['x'], references: [{ kind: 'TrafficRouterPlugin', name: 'argoproj-labs/cilium', exists: false, usedBy: [] }] }, { rollout: 'shop/web' });
    const elsewhere = stuck('other/app');
    const { correlation } = run([wrongKey, references, stuck('shop/web'), elsewhere]);
    expect(correlation.incidents.map((i) => `${i.root.target}: ${refs(i.effects).join(', ')}`)).toEqual(['argoproj-labs/cilium: rollout-references shop/web, rollout-status shop/web', 'other/app: ']);
  });

  it('a controller that is down explains the plugin evidence it leaves unreadable, not an API error reading it', () => {
    const noLog = result('controller-plugins', 'argoproj-labs/cilium', 'unknown', { plugin: 'argoproj-labs/cilium', reason: 'cannot read the controller log for plugin argoproj-labs/cilium: controller Deployment argo-rollouts/argo-rollouts has no pods' });
    const forbidden = result('controller-plugins', 'argoproj-labs/gatewayAPI', 'unknown', { plugin: 'argoproj-labs/gatewayAPI', reason: 'rollout-doctor may not get pods/log in namespace argo-rollouts (403 Forbidden)', apiError: { reason: 'Forbidden', status: 403, verb: 'get', resource: 'pods/log', namespace: 'argo-rollouts' } });
    const { correlation } = run([controllerDown(), noLog, forbidden]);
    expect(correlation.incidents.map((i) => `${i.root.target}: ${refs(i.effects).join(', ')}`)).toEqual(['argo-rollouts/argo-rollouts: controller-plugins argoproj-labs/cilium', 'argoproj-labs/gatewayAPI: ']);
  });
});

describe('correlate: a recovered root holds its effects down', () => {
  const open = () => run([downloadFailed(), controllerDown(), stuck('shop/web'), stuck('shop/api')]);

  it('keeps the effects under the resolved incident, recovering, for the hold-down, then lets them form their own', () => {
    const first = open();
    const id = first.correlation.incidents[0]!.id;
    // The plugin and the controller are fixed; one Rollout caught up, the other is still catching up.
    const fixed = [result('controller-plugins', 'argoproj-labs/cilium', 'ok', { plugin: 'argoproj-labs/cilium', loaded: true }, { since: '2026-11-26T14:00:30.000Z' }), result('controller-pods', 'argo-rollouts/argo-rollouts', 'ok'), stuck('shop/web'), result('rollout-status', 'shop/api', 'ok')];
    const second = run(fixed, first.memory, { ...AT, nowMs: T0 + 60_000 });
    expect(second.correlation.incidents).toEqual([
      {
        id,
        status: 'recovering',
        root: { check: 'controller-plugins', target: 'argoproj-labs/cilium' },
        summary: 'recovered: plugin argoproj-labs/cilium cannot be downloaded (Not Found); still catching up: Rollout shop/web not progressing',
        effects: [{ check: 'rollout-status', target: 'shop/web' }],
        since: '2026-11-26T14:00:30.000Z',
        remediation: [],
      },
    ]);
    expect(second.correlation.incidentOf.get('rollout-status\u0000shop/web')).toBe(id);
    expect(second.correlation.explainedBy.get('rollout-status\u0000shop/web')).toEqual({ check: 'controller-plugins', target: 'argoproj-labs/cilium' });
    // Still within 5 minutes of the recovery (first seen at +60 s), then past it.
    expect(run(fixed, second.memory, { ...AT, nowMs: T0 + 350_000 }).correlation.incidents.map((i) => i.status)).toEqual(['recovering']);
    const later = run(fixed, run(fixed, second.memory, { ...AT, nowMs: T0 + 350_000 }).memory, { ...AT, nowMs: T0 + 361_000 });
    expect(later.correlation.incidents.map((i) => `${i.status} ${i.root.check} ${i.root.target}`)).toEqual(['warn rollout-status shop/web']);
  });

  it('reopens the same incident when the root fails again within the hold-down', () => {
    const first = open();
    const recovered = run([result('controller-plugins', 'argoproj-labs/cilium', 'ok'), controllerDown(), stuck('shop/web')], first.memory, { ...AT, nowMs: T0 + 30_000 });
    expect(recovered.correlation.incidents.map((i) => `${i.status} ${i.root.check}`)).toEqual(['recovering controller-plugins']);
    const again = run([downloadFailed(), controllerDown(), stuck('shop/web')], recovered.memory, { ...AT, nowMs: T0 + 60_000 });
    expect(again.correlation.incidents.map((i) => `${i.status} ${i.id}`)).toEqual([`fail ${first.correlation.incidents[0]!.id}`]);
  });

  it('does not take a result that a live cause explains now, nor one that was not its effect', () => {
    const first = run([result('rollout-pods', 'shop/web', 'fail', { ...rollout('shop/web'), podCount: 1, pods: [], replicaSets: [], problems: {} }, { rollout: 'shop/web' }), result('rollout-status', 'shop/web', 'fail', { ...rollout('shop/web'), phase: 'Degraded', degradedReason: 'ProgressDeadlineExceeded', pauseReasons: [] }, { rollout: 'shop/web' })]);
    const next = run([result('rollout-pods', 'shop/web', 'ok'), controllerDown(), stuck('shop/web'), result('endpoint', 'new', 'fail')], first.memory, { ...AT, nowMs: T0 + 10_000 });
    expect(next.correlation.incidents.map((i) => `${i.status} ${i.root.target}: ${refs(i.effects).join(', ')}`)).toEqual(['fail argo-rollouts/argo-rollouts: rollout-status shop/web', 'fail new: ']);
  });

  it('holds down for the configured time: incidents.holdDown, 5 minutes by default', () => {
    expect(parseConfig({}, 'test.yaml').incidents.holdDown).toBe(300);
    expect(parseConfig({ incidents: { holdDown: '90s' } }, 'test.yaml').incidents.holdDown).toBe(90);
    const first = open();
    const fixed = [result('controller-plugins', 'argoproj-labs/cilium', 'ok'), result('controller-pods', 'argo-rollouts/argo-rollouts', 'ok'), stuck('shop/web')];
    expect(run(fixed, first.memory, { nowMs: T0 + 1000, holdDownMs: 0 }).correlation.incidents.map((i) => i.status)).toEqual(['warn']);
  });
});
