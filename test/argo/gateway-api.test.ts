/**
 * The Gateway API plugin's rules by release (src/argo/gateway-api.ts), each against what the plugin's
 * source at that tag does: which config keys it reads, which backendRefs SetWeight writes, which
 * rules it treats as header routes; the release a location names; and the RBAC table
 * (src/argo/plugin-rbac.ts) by release and by how the Rollouts use the plugin.
 */
import { describe, expect, it } from 'vitest';
import { headerRules, readGatewayApiConfig, routeKindSpec, weightedRefs } from '../../src/argo/gateway-api.js';
import { pluginRequirements } from '../../src/argo/plugin-rbac.js';
import { compareReleases, parseReleaseTag, releaseFromLocation } from '../../src/argo/plugin-release.js';
import { configSchema } from '../../src/config/schema.js';
import type { CustomObject, Rollout } from '../../src/kube/types.js';

const release = (tag: string) => parseReleaseTag(tag)!;

function rollout(plugin: Record<string, unknown>, managedRoutes: string[] = [], namespace = 'litellm'): Rollout {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'litellm', namespace },
    spec: {
      strategy: {
        canary: {
          canaryService: 'litellm-canary',
          stableService: 'litellm',
          trafficRouting: { plugins: { 'argoproj-labs/gatewayAPI': plugin }, ...(managedRoutes.length > 0 ? { managedRoutes: managedRoutes.map((name) => ({ name })) } : {}) },
        },
      },
    },
  };
}

function httpRoute(rules: Record<string, unknown>[]): CustomObject {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'litellm', namespace: 'litellm' }, spec: { rules } };
}

const ref = (name: string, weight?: number) => ({ group: '', kind: 'Service', name, port: 4000, ...(weight === undefined ? {} : { weight }) });

describe('plugin releases from locations', () => {
  it('reads the tag of a GitHub release asset, and nothing else', () => {
    expect(releaseFromLocation('https://github.com/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi/releases/download/v0.15.0/gatewayapi-plugin-linux-amd64')?.tag).toBe('v0.15.0');
    expect(releaseFromLocation('https://github.com/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi/releases/download/v0.0.0-rc1/gateway-api-plugin-linux-arm64')).toMatchObject({ major: 0, minor: 0, patch: 0, prerelease: 'rc1' });
    expect(releaseFromLocation('https://github.com/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi/releases/latest/download/gatewayapi-plugin-linux-amd64')).toBeUndefined();
    expect(releaseFromLocation('file:///plugins/gatewayapi-plugin')).toBeUndefined();
    expect(releaseFromLocation('not a url')).toBeUndefined();
  });

  it('orders releases as semver does (a pre-release before its release)', () => {
    expect(compareReleases(release('v0.0.0-rc1'), release('v0.0.0'))).toBe(-1);
    expect(compareReleases(release('v0.12.0'), release('v0.9.0'))).toBe(1);
    expect(compareReleases(release('v0.14.1'), release('v0.14.1'))).toBe(0);
  });
});

describe('readGatewayApiConfig', () => {
  it('v0.15.0: lists, then the single route (useHeaderRoutes), per kind; namespace defaults to the Rollout (v0.11.0+)', () => {
    const config = readGatewayApiConfig({ httpRoutes: [{ name: 'a' }, { name: 'b', useHeaderRoutes: true }], httpRoute: 'c', tlsRoute: 't' }, 'litellm', release('v0.15.0'));
    expect(config.routes).toEqual([
      { kind: 'HTTPRoute', name: 'a', useHeaderRoutes: false, via: 'httpRoutes' },
      { kind: 'HTTPRoute', name: 'b', useHeaderRoutes: true, via: 'httpRoutes' },
      { kind: 'HTTPRoute', name: 'c', useHeaderRoutes: true, via: 'httpRoute' },
      { kind: 'TLSRoute', name: 't', useHeaderRoutes: true, via: 'tlsRoute' },
    ]);
    expect(config).toMatchObject({ namespace: 'litellm', isNamespaceDefaulted: true, ignoredKeys: [], errors: [] });
    expect(config.configMap).toBeUndefined();
  });

  it('v0.1.0: one route, httpRoute before tcpRoute; lists and TLS are unknown keys; the ConfigMap defaults', () => {
    const config = readGatewayApiConfig({ httpRoute: 'web', tcpRoute: 'db', namespace: 'shop', httpRoutes: [{ name: 'x' }], tlsRoute: 'y' }, 'shop', release('v0.1.0'));
    expect(config.routes).toEqual([{ kind: 'HTTPRoute', name: 'web', useHeaderRoutes: true, via: 'httpRoute' }]);
    expect(config.ignoredKeys).toEqual(['httpRoutes', 'tlsRoute']);
    expect(config.configMap).toBe('argo-gatewayapi-configmap');
  });

  it('before v0.11.0 nothing defaults the namespace of named routes; selectors list in the Rollout namespace', () => {
    const config = readGatewayApiConfig({ httpRoute: 'web', httpRouteSelector: { matchLabels: { app: 'web' } } }, 'shop', release('v0.10.0'));
    expect(config.namespace).toBeUndefined();
    expect(config.selectorNamespace).toBe('shop');
    expect(config.selectors).toEqual([{ kind: 'HTTPRoute', key: 'httpRouteSelector', selector: { matchLabels: { app: 'web' } } }]);
  });

  it('reports what json.Unmarshal and the validator reject', () => {
    expect(readGatewayApiConfig({ httpRoutes: 'web', grpcRoutes: [{ useHeaderRoutes: true }] }, 'shop', release('v0.15.0')).errors).toEqual(['httpRoutes is not a list', 'grpcRoutes[0].name is required']);
  });
});

describe('weightedRefs: the backendRefs SetWeight writes, by release', () => {
  const route = httpRoute([
    { backendRefs: [ref('litellm', 80), ref('litellm-canary', 20)] },
    { backendRefs: [ref('litellm', 100), ref('litellm-canary', 0)] },
    { name: 'header-canary-1', backendRefs: [ref('litellm-canary')] },
  ]);
  const spec = routeKindSpec('HTTPRoute');
  const refsOf = (tag: string, managed: string[] = []) => weightedRefs(route, spec, rollout({ httpRoute: 'litellm' }, managed), release(tag)).refs.map((r) => `${r.rule}/${r.role}=${r.weight}`);

  it('v0.0.1: the first rule only; v0.1.0-v0.2.0: the first canary and the first stable ref', () => {
    expect(refsOf('v0.0.1')).toEqual(['0/stable=80', '0/canary=20']);
    expect(refsOf('v0.2.0')).toEqual(['0/stable=80', '0/canary=20']);
    const split = httpRoute([{ backendRefs: [ref('litellm', 100)] }, { backendRefs: [ref('litellm', 50), ref('litellm-canary', 50)] }]);
    const of = (tag: string) => weightedRefs(split, spec, rollout({ httpRoute: 'litellm' }), release(tag));
    expect(of('v0.0.1').error).toBe('backendRef was not found in httpRoute');
    expect(of('v0.2.0').refs.map((r) => `${r.rule}/${r.role}`)).toEqual(['0/stable', '1/canary']);
  });

  it('v0.3.0-v0.12.0: every ref of every rule, header rules too (a missing weight is Gateway API default 1)', () => {
    expect(refsOf('v0.12.0')).toEqual(['0/stable=80', '0/canary=20', '1/stable=100', '1/canary=0', '2/canary=1']);
  });

  it('v0.13.0+: header rules are skipped (canary-only rules always; `<name>-<n>` names from v0.15.0)', () => {
    expect(refsOf('v0.13.0')).toEqual(['0/stable=80', '0/canary=20', '1/stable=100', '1/canary=0']);
    expect(weightedRefs(route, spec, rollout({ httpRoute: 'litellm' }, ['header-canary']), release('v0.15.0')).skippedRules).toEqual([2]);
  });

  it("a route without the canary or the stable backendRef is the plugin's own error", () => {
    const onlyStable = httpRoute([{ backendRefs: [ref('litellm', 1)] }]);
    expect(weightedRefs(onlyStable, spec, rollout({ httpRoute: 'litellm' }), release('v0.15.0')).error).toBe('backendRef was not found in httpRoute');
    expect(weightedRefs(onlyStable, routeKindSpec('TCPRoute'), rollout({ tcpRoute: 'litellm' }), release('v0.15.0')).error).toBe('backendRef was not found in tcpRoute');
  });

  it('headerRules names the managed route a rule carries (v0.15.0: also `<name>-<n>`)', () => {
    expect(headerRules(route, rollout({ httpRoute: 'litellm' }, ['header-canary']), release('v0.15.0'))).toEqual([{ rule: 2, ruleName: 'header-canary-1', managedRoute: 'header-canary', headers: [] }]);
  });
});

describe('the plugin RBAC table', () => {
  const config = configSchema.parse({});
  const location = (tag: string) => `https://github.com/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi/releases/download/${tag}/gatewayapi-plugin-linux-amd64`;
  const needs = (tag: string, rollouts: Rollout[]) =>
    pluginRequirements({ name: 'argoproj-labs/gatewayAPI', location: location(tag) }, rollouts, config)
      .permissions.map((p) => `${p.group || 'core'}/${p.resource} ${p.verb} ${p.namespaces.join(',') || 'cluster'}`)
      .sort();

  it('v0.15.0, one named HTTPRoute: get services where the Rollout is; get, update, patch httproutes where the route is', () => {
    expect(needs('v0.15.0', [rollout({ httpRoute: 'litellm', namespace: 'edge' })])).toEqual([
      'core/services get litellm',
      'gateway.networking.k8s.io/httproutes get edge',
      'gateway.networking.k8s.io/httproutes patch edge',
      'gateway.networking.k8s.io/httproutes update edge',
    ]);
  });

  it('v0.12.0: configmaps get, create, update where routes keep header routes (the single-route form sets useHeaderRoutes)', () => {
    expect(needs('v0.12.0', [rollout({ httpRoute: 'litellm' })])).toContain('core/configmaps create litellm');
    expect(needs('v0.12.0', [rollout({ httpRoutes: [{ name: 'litellm' }] })]).filter((n) => n.includes('configmaps'))).toEqual([]);
    expect(needs('v0.13.0', [rollout({ httpRoute: 'litellm' })]).filter((n) => n.includes('configmaps'))).toEqual([]);
  });

  it('list only where a selector finds routes (v0.7.0+), as the installation docs say', () => {
    expect(needs('v0.15.0', [rollout({ grpcRouteSelector: { matchLabels: { app: 'x' } } })])).toEqual([
      'core/services get litellm',
      'gateway.networking.k8s.io/grpcroutes get litellm',
      'gateway.networking.k8s.io/grpcroutes list litellm',
      'gateway.networking.k8s.io/grpcroutes patch litellm',
      'gateway.networking.k8s.io/grpcroutes update litellm',
    ]);
  });

  it('a location without a tag gets the newest release rows; no Rollout using it: services get, cluster-wide', () => {
    const required = pluginRequirements({ name: 'argoproj-labs/gatewayAPI', location: 'file:///plugins/gatewayapi' }, [rollout({ httpRoute: 'litellm' })], config);
    expect(required.release).toBeUndefined();
    expect(required.permissions.some((p) => p.resource === 'configmaps')).toBe(false);
    expect(needs('v0.15.0', [])).toEqual(['core/services get cluster']);
  });

  it('config rows by release replace the built-in verbs of their group/resource', () => {
    const configured = configSchema.parse({
      plugins: { 'argoproj-labs/gatewayAPI': { controllerRulesByVersion: [{ from: 'v0.14.0', rules: [{ apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], verbs: ['get', 'update'] }] }] } },
    });
    const of = (tag: string) =>
      pluginRequirements({ name: 'argoproj-labs/gatewayAPI', location: location(tag) }, [rollout({ httpRoute: 'litellm' })], configured)
        .permissions.filter((p) => p.resource === 'httproutes')
        .map((p) => `${p.verb} ${p.namespaces.join(',') || 'cluster'}`);
    expect(of('v0.15.0')).toEqual(['get cluster', 'update cluster']);
    expect(of('v0.13.0')).toEqual(['get litellm', 'update litellm', 'patch litellm']);
  });
});
