/**
 * Least privilege, proven: the RBAC objects `kubectl kustomize deploy/` renders are loaded into the
 * simulated homelab, whose API server authorizes rollout-doctor's requests as its service account
 * with real RBAC rule matching. With the rendered roles nothing is forbidden and every check can
 * look; with any one permission taken out, exactly that permission is denied, the checks that need
 * it report unknown ("rollout-doctor may not ..."), and self-rbac fails with the rule to add.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { qualifiedResource } from '../../src/checks/lib/rbac.js';
import type { StoredResult } from '../../src/engine/types.js';
import { kindPermission, type Permission, permissionKey, permissionTarget, requiredPermissions } from '../../src/kube/permissions.js';
import { KIND_SPECS } from '../../src/kube/snapshot.js';
import { ALL_CHECKS } from '../../src/checks/index.js';
import { checkNeeds, enabledChecks } from '../../src/engine/runner.js';
import { demoScenarioDir } from '../../src/main.js';
import type { RequestLogEntry } from '../../src/simulator/types.js';
import {
  checksNeeding,
  DEPLOY_DIR,
  deployedChecks,
  findKubectl,
  type KubeObject,
  loadDeployConfig,
  RBAC_KINDS,
  renderKustomize,
  requiredForDeploy,
  resourceOf,
  SUBJECT,
  withoutPermission,
} from './helpers.js';
import { type EnforcedRun, runEnforced, simulationConfig } from './simulated.js';

const kubectl = findKubectl();
const config = await loadDeployConfig();
const required = requiredForDeploy(config);
const checkIds = deployedChecks(config).map((c) => c.id);

/**
 * Kubernetes' bootstrap ClusterRole system:basic-user, bound to every authenticated user, grants
 * these (the simulator has the same bootstrap policy): taking them out of our roles changes nothing.
 */
const GRANTED_TO_EVERY_USER = new Set(['authorization.k8s.io/selfsubjectaccessreviews:create:']);

/** Permissions only needed when a kind answers 404 (Endpoints when EndpointSlices are not served). */
function fallbackOnly(): Set<string> {
  const needs = checkNeeds(deployedChecks(config), config.config);
  const listed = new Set(needs.kinds.map((kind) => permissionKey(kindPermission(kind, config.config))));
  const fallbacks = needs.kinds.flatMap((kind) => {
    const fallback = KIND_SPECS[kind].fallback;
    return fallback ? [permissionKey(kindPermission(fallback, config.config))] : [];
  });
  return new Set(fallbacks.filter((key) => !listed.has(key)));
}

function matches(request: RequestLogEntry, p: Permission): boolean {
  return request.verb === p.verb && request.group === p.group && request.resource === resourceOf(p) && (!p.namespace || request.namespace === p.namespace);
}

function describeRequest(r: RequestLogEntry): string {
  return `${r.verb} ${r.group || 'core'}/${r.resource}${r.namespace ? ` in ${r.namespace}` : ''}`;
}

/** Results that are unknown because rollout-doctor lacked a permission. */
function deniedResults(results: readonly StoredResult[]): StoredResult[] {
  return results.filter((r) => r.status === 'unknown' && r.summary.includes('rollout-doctor may not'));
}

function show(results: readonly StoredResult[]): string {
  return results.map((r) => `${r.check} ${r.target} ${r.status}: ${r.summary}`).join('\n');
}

describe.runIf(kubectl)('the rendered RBAC on the simulated homelab, enforced as ' + SUBJECT, () => {
  let rbac: KubeObject[];
  let full: EnforcedRun;

  beforeAll(async () => {
    rbac = renderKustomize(kubectl!, DEPLOY_DIR).filter((o) => RBAC_KINDS.includes(o.kind));
    full = await runEnforced(config, rbac);
  });

  it('runs the deployed checks, so the list it proves is the deployed one', async () => {
    const simulated = await simulationConfig(config, demoScenarioDir());
    const checks = enabledChecks(ALL_CHECKS, simulated.config);
    expect(checks.map((c) => c.id)).toEqual(checkIds);
    expect(requiredPermissions(checkNeeds(checks, simulated.config), simulated.config)).toEqual(required);
  });

  it('loads the rendered ServiceAccount, ClusterRole, ClusterRoleBinding, Role and RoleBinding', () => {
    expect([...new Set(rbac.map((o) => o.kind))].sort()).toEqual([...RBAC_KINDS].sort());
  });

  it('forbids nothing: every request is made as the service account and allowed', () => {
    expect(full.requests.length).toBeGreaterThan(0);
    expect([...new Set(full.requests.map((r) => r.user))]).toEqual([SUBJECT]);
    expect(full.requests.filter((r) => r.forbidden).map(describeRequest)).toEqual([]);
  });

  it('lets every enabled check look: each reports, none is unknown for lack of a permission', () => {
    expect([...new Set(full.results.map((r) => r.check))].sort()).toEqual([...checkIds].sort());
    expect(show(deniedResults(full.results))).toBe('');
    expect(show(full.results.filter((r) => r.check === 'self-rbac' && r.status !== 'ok'))).toBe('');
  });

  it('exercises every granted permission in the scenario (but the 404 fallbacks)', () => {
    const fallbacks = fallbackOnly();
    const unused = required.filter((p) => !fallbacks.has(permissionKey(p)) && !full.requests.some((r) => matches(r, p)));
    expect(unused.map(permissionKey)).toEqual([]);
  });

  it('without list rollouts: every check that reads Rollouts is unknown, self-rbac fails with the rule to add', async () => {
    const rollouts = required.find((p) => p.group === 'argoproj.io' && p.resource === 'rollouts' && p.verb === 'list');
    expect(rollouts, 'the checks no longer list rollouts').toBeDefined();
    const run = await runEnforced(config, withoutPermission(rbac, rollouts!));
    // controller-rbac reads the Rollouts only for a plugin whose needs depend on them (the Gateway API
    // plugin's namespaced routes); the homelab's Cilium plugin needs the same rule whatever they hold,
    // so controller-rbac keeps checking it without them.
    const readers = checksNeeding(rollouts!, config).filter((check) => check !== 'controller-rbac');
    expect(readers.length).toBeGreaterThan(1);
    expect(show(run.results.filter((r) => r.check === 'controller-rbac' && r.status === 'unknown'))).toBe('');
    for (const check of readers) {
      const mine = run.results.filter((r) => r.check === check);
      expect(mine.length, `${check} reported nothing`).toBeGreaterThan(0);
      expect(
        mine.every((r) => r.status === 'unknown' && r.summary.includes('rollout-doctor may not list rollouts.argoproj.io')),
        `${check}:\n${show(mine)}`,
      ).toBe(true);
    }
    const self = run.results.find((r) => r.check === 'self-rbac' && r.target === 'argoproj.io/rollouts');
    expect(self?.status).toBe('fail');
    expect(self?.remediation.join('\n')).toMatch(/ClusterRole[\s\S]*apiGroups: \[argoproj\.io\][\s\S]*resources: \[rollouts\][\s\S]*verbs: \[list\]/);
  });

  describe.each(required.map((p) => ({ key: permissionKey(p), permission: p })))('without $key', ({ key, permission }) => {
    let run: EnforcedRun;
    beforeAll(async () => {
      run = await runEnforced(config, withoutPermission(rbac, permission));
    });

    it('denies exactly that permission, when the cycle uses it', () => {
      const forbidden = run.requests.filter((r) => r.forbidden);
      expect(forbidden.filter((r) => !matches(r, permission)).map(describeRequest)).toEqual([]);
      const isUsed = full.requests.some((r) => matches(r, permission));
      if (isUsed && !GRANTED_TO_EVERY_USER.has(key)) expect(forbidden.length).toBeGreaterThan(0);
      else expect(forbidden).toEqual([]);
    });

    it('turns only the checks that need it unknown, naming it', () => {
      const needing = checksNeeding(permission, config);
      const resource = qualifiedResource(permission.group, resourceOf(permission));
      const denied = deniedResults(run.results);
      expect(denied.filter((r) => !needing.includes(r.check) || !r.summary.includes(`may not ${permission.verb} ${resource}`)).map((r) => `${r.check} ${r.target}: ${r.summary}`)).toEqual([]);
      // Nothing else changes: results of checks that read the cluster keep the status of the full
      // run (the endpoint probes need no permission and are left out: their latency may vary).
      const readsCluster = new Set(deployedChecks(config).filter((c) => requiredPermissions(checkNeeds([c], config.config), config.config).length > 0).map((c) => c.id));
      const before = new Map(full.results.map((r) => [`${r.check} ${r.target}`, r.status]));
      const changed = run.results.filter(
        (r) => readsCluster.has(r.check) && r.check !== 'self-rbac' && !denied.includes(r) && before.has(`${r.check} ${r.target}`) && before.get(`${r.check} ${r.target}`) !== r.status,
      );
      expect(changed.filter((r) => !needing.includes(r.check)).map((r) => `${r.check} ${r.target} ${r.status}: ${r.summary}`)).toEqual([]);
    });

    it('makes self-rbac fail on it with the rule to add (unless every user has it anyway)', () => {
      const self = run.results.filter((r) => r.check === 'self-rbac');
      const failing = self.filter((r) => r.status !== 'ok');
      if (GRANTED_TO_EVERY_USER.has(key)) {
        expect(show(failing)).toBe('');
        return;
      }
      expect(failing.map((r) => `${r.target} ${r.status}`)).toEqual([`${permissionTarget(permission)} fail`]);
      const remediation = failing[0]!.remediation.join('\n');
      expect(remediation).toContain(permission.namespace ? `Role in namespace ${permission.namespace}` : 'ClusterRole');
      expect(remediation).toContain(`resources: [${resourceOf(permission)}]`);
      expect(remediation).toContain(`verbs: [${permission.verb}]`);
      expect(failing[0]!.details['missing']).toEqual([{ verb: permission.verb, scope: permission.namespace ?? 'cluster' }]);
    });
  });
});
