/**
 * Discovery as kube-apiserver serves it (legacy, unaggregated documents: clients that ask for the
 * aggregated APIGroupDiscoveryList fall back to these when the answer is plain application/json, as
 * client-go does): /api, /apis, /apis/{group}, /api/v1 and /apis/{group}/{version}, listing each kind
 * with its verbs and the subresources the simulator serves (status, scale, pods/log).
 */
import type { ResourceType } from './kinds.js';
import type { ObjectStore } from './store.js';

/** What /version answers: the Kubernetes release whose behaviour the simulator follows. */
export function versionInfo(): Record<string, string> {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0',
    gitCommit: '70d3cc986aa8221cd1dfb1121852688902d3bf53',
    gitTreeState: 'clean',
    buildDate: '2024-12-11T17:59:15Z',
    goVersion: 'go1.23.3',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export type DiscoveryKind = 'versions' | 'groups' | 'group' | 'resources';

/** Subresources of a kind: status and scale as the kind has them, and pods/log. */
export interface SubresourceInfo {
  hasStatus(rt: ResourceType, version: string): boolean;
  hasScale(rt: ResourceType, version: string): boolean;
}

function groupDocument(served: ResourceType[], name: string): Record<string, unknown> | undefined {
  const versions: string[] = [];
  for (const rt of served) if (rt.group === name) for (const v of rt.versions) if (!versions.includes(v)) versions.push(v);
  if (versions.length === 0) return undefined;
  const gvs = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: gvs, preferredVersion: gvs[0] };
}

/** The discovery document, or undefined when the path names nothing served. */
export function discoveryDocument(
  store: ObjectStore,
  subresources: SubresourceInfo,
  kind: DiscoveryKind,
  group: string,
  version: string,
  serverAddress: string,
): Record<string, unknown> | undefined {
  const served = store.registry.all().filter((rt) => store.isServed(rt));
  switch (kind) {
    case 'versions':
      return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
    case 'groups': {
      const names = [...new Set(served.filter((rt) => rt.group !== '').map((rt) => rt.group))].sort();
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: names.map((n) => groupDocument(served, n)) };
    }
    case 'group': {
      const doc = groupDocument(served, group);
      return doc && { kind: 'APIGroup', apiVersion: 'v1', ...doc };
    }
    default: {
      const types = served.filter((rt) => rt.group === group && rt.versions.includes(version));
      if (types.length === 0) return undefined;
      const resources: Record<string, unknown>[] = [];
      for (const rt of types) {
        const r: Record<string, unknown> = { name: rt.plural, singularName: rt.singular, namespaced: rt.namespaced, kind: rt.kind, verbs: rt.verbs };
        if (rt.shortNames.length > 0) r['shortNames'] = rt.shortNames;
        resources.push(r);
        if (rt.group === '' && rt.plural === 'pods') resources.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
        if (subresources.hasScale(rt, version)) {
          resources.push({ name: `${rt.plural}/scale`, singularName: '', namespaced: rt.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
        }
        if (subresources.hasStatus(rt, version)) {
          resources.push({ name: `${rt.plural}/status`, singularName: '', namespaced: rt.namespaced, kind: rt.kind, verbs: ['get', 'patch', 'update'] });
        }
      }
      return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources };
    }
  }
}
