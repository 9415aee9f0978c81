/**
 * components/network-policy, rendered with kubectl's kustomize on top of the base: one valid
 * NetworkPolicy in rollout-doctor's namespace that selects exactly the Deployment's pods, admits
 * ingress only on the port the Service and the VMServiceScrape use, only from the scraper's namespace
 * (`monitoring`, or what the overlay patch of docs/victoriametrics.md sets) and rollout-doctor's own,
 * and leaves egress alone; the rest of the base unchanged.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_DIR, findKubectl, findObject, type KubeObject, REPO, renderKustomize } from './helpers.js';
import { validateObject } from './validate.js';

const kubectl = findKubectl();
const NAMESPACE = 'rollout-doctor';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

/** The namespaces a rule's `from` admits, by their kubernetes.io/metadata.name. */
function admittedNamespaces(rule: Json): string[] {
  return (rule.from as Json[]).map((peer) => {
    expect(Object.keys(peer), 'a peer is a namespace selector only (no pod selector, no ipBlock)').toEqual(['namespaceSelector']);
    expect(Object.keys(peer.namespaceSelector), 'matchLabels only').toEqual(['matchLabels']);
    const labels = peer.namespaceSelector.matchLabels as Record<string, string>;
    expect(Object.keys(labels)).toEqual(['kubernetes.io/metadata.name']);
    return labels['kubernetes.io/metadata.name']!;
  });
}

describe.runIf(kubectl)('kubectl kustomize with components/network-policy', () => {
  let base: KubeObject[];
  let objects: KubeObject[];
  let policy: Json;
  beforeAll(() => {
    base = renderKustomize(kubectl!, DEPLOY_DIR);
    objects = renderKustomize(kubectl!, path.join(REPO, 'test', 'deploy', 'network-policy'));
    policy = findObject(objects, 'NetworkPolicy', 'rollout-doctor', NAMESPACE) as Json;
  });

  it('adds one valid NetworkPolicy and leaves the base as it is', () => {
    expect(objects.filter((o) => o.kind !== 'NetworkPolicy')).toEqual(base);
    expect(objects.filter((o) => o.kind === 'NetworkPolicy')).toHaveLength(1);
    expect(validateObject(policy as KubeObject)).toEqual([]);
  });

  it("selects exactly the Deployment's pods, in its namespace", () => {
    const deployment = findObject(objects, 'Deployment', 'rollout-doctor', NAMESPACE) as Json;
    expect(policy.metadata.namespace).toBe(deployment.metadata.namespace);
    const podLabels = deployment.spec.template.metadata.labels;
    expect(Object.keys(policy.spec.podSelector)).toEqual(['matchLabels']);
    expect(selects(policy.spec.podSelector.matchLabels, podLabels)).toBe(true);
    // The same pods as the Deployment's own selector and the Service's: no more, no fewer.
    expect(policy.spec.podSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    const service = findObject(objects, 'Service', 'rollout-doctor', NAMESPACE) as Json;
    expect(policy.spec.podSelector.matchLabels).toEqual(service.spec.selector);
  });

  it('admits ingress on the metrics port only, the one the Service and the VMServiceScrape use; egress untouched', () => {
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    const [rule, ...others] = policy.spec.ingress as Json[];
    expect(others).toEqual([]);
    const container = (findObject(objects, 'Deployment', 'rollout-doctor', NAMESPACE) as Json).spec.template.spec.containers[0];
    const service = findObject(objects, 'Service', 'rollout-doctor', NAMESPACE) as Json;
    const scrape = findObject(objects, 'VMServiceScrape', 'rollout-doctor', NAMESPACE) as Json;
    const servicePort = (service.spec.ports as Json[]).find((p) => p.name === scrape.spec.endpoints[0].port)!;
    const containerPort = (container.ports as Json[]).find((p) => p.name === servicePort.targetPort || p.containerPort === servicePort.targetPort)!;
    expect(containerPort, 'the port the VMServiceScrape scrapes, through the Service').toBeDefined();
    expect(rule!.ports).toHaveLength(1);
    const port = (rule!.ports as Json[])[0]!;
    // A named port resolves against the pod's container ports; a number must be the container port.
    expect([containerPort.name, containerPort.containerPort]).toContain(port.port);
    expect(port.protocol ?? 'TCP').toBe(containerPort.protocol ?? 'TCP');
    expect(port.endPort).toBeUndefined();
    // The probes use the same port; traffic from the node is always allowed, so they keep working.
    expect(container.readinessProbe.httpGet.port).toBe(containerPort.name);
  });

  it("admits the scraper's namespace (monitoring by default) and rollout-doctor's own, nothing else", () => {
    expect(admittedNamespaces(policy.spec.ingress[0])).toEqual(['monitoring', NAMESPACE]);
  });

  it("takes the scraper's namespace from the overlay patch the docs give", () => {
    const patched = renderKustomize(kubectl!, path.join(REPO, 'test', 'deploy', 'network-policy-scraper-namespace'));
    const other = findObject(patched, 'NetworkPolicy', 'rollout-doctor', NAMESPACE) as Json;
    expect(admittedNamespaces(other.spec.ingress[0])).toEqual(['vm', NAMESPACE]);
    const { ingress: _ingress, ...rest } = other.spec;
    const { ingress: _baseIngress, ...baseRest } = policy.spec;
    expect(rest).toEqual(baseRest);
    expect(validateObject(other as KubeObject)).toEqual([]);
  });
});
