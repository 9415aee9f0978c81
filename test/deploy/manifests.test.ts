/**
 * deploy/ renders with kustomize (kubectl's), every object validates offline, and the objects hang
 * together: the Deployment runs the image's `serve` with the mounted config (a copy of
 * checks/homelab.yaml), is hardened to the restricted Pod Security Standard, and is selected by the
 * Service that the VMServiceScrape (or the Prometheus Operator component's ServiceMonitor) scrapes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import {
  DEPLOY_CONFIG,
  DEPLOY_DIR,
  findKubectl,
  findObject,
  type KubeObject,
  readObjects,
  REPO,
  renderKustomize,
  SERVICE_ACCOUNT,
} from './helpers.js';
import { validateObject } from './validate.js';

const kubectl = findKubectl();
const PACKAGE = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
const NAMESPACE = 'rollout-doctor';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function kinds(objects: readonly KubeObject[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name.replace(/-[a-z0-9]{10}$/, '-<hash>')}`).sort();
}

function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

describe('deploy/homelab.yaml', () => {
  it('is a byte-for-byte copy of checks/homelab.yaml (kustomize reads nothing outside deploy/)', () => {
    const copy = readFileSync(DEPLOY_CONFIG, 'utf8');
    const original = readFileSync(path.join(REPO, 'checks', 'homelab.yaml'), 'utf8');
    expect(copy, 'deploy/homelab.yaml differs from checks/homelab.yaml: cp checks/homelab.yaml deploy/homelab.yaml').toBe(original);
  });
});

describe('offline validation', () => {
  it.each([
    ['a Deployment with a malformed memory limit', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'n' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'a', resources: { limits: { memory: 'lots' } } }] } } } }, 'memory'],
    ['a rule with a misspelt field', { apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMRule', metadata: { name: 'x', namespace: 'n' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up == 0', annotation: {} }] }] } }, 'annotation: unknown field'],
    ['an alert without severity', { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'x', namespace: 'n' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up == 0', annotations: { summary: 's', description: 'd', runbook_url: 'https://x' } }] }] } }, 'severity'],
    ['a scrape of a port number', { apiVersion: 'operator.victoriametrics.com/v1beta1', kind: 'VMServiceScrape', metadata: { name: 'x', namespace: 'n' }, spec: { selector: { matchLabels: {} }, endpoints: [{ port: 9464, path: '/metrics' }] } }, 'port'],
    ['an unknown sync option', { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'x', namespace: 'argocd' }, spec: { project: 'default', source: { repoURL: 'https://example.invalid/r.git', path: 'deploy', targetRevision: 'main' }, destination: { server: 'https://kubernetes.default.svc' }, syncPolicy: { syncOptions: ['CreateNamespaces=true'] } } }, 'unknown sync option'],
    ['a kind nobody validates', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x', namespace: 'n' } }, 'no validator'],
  ])('rejects %s', (_, object, expected) => {
    const problems = validateObject(object as unknown as KubeObject);
    expect(problems.join('\n')).toContain(expected);
  });
});

describe.runIf(kubectl)('kubectl kustomize deploy/', () => {
  let objects: KubeObject[];
  beforeAll(() => {
    objects = renderKustomize(kubectl!, DEPLOY_DIR);
  });

  it('renders the base: namespace, RBAC, config, Deployment, Service, VictoriaMetrics scrape and rules', () => {
    expect(kinds(objects)).toEqual(
      [
        'ClusterRole/rollout-doctor',
        'ClusterRoleBinding/rollout-doctor',
        `ConfigMap/${NAMESPACE}/rollout-doctor-config-<hash>`,
        `Deployment/${NAMESPACE}/rollout-doctor`,
        `Namespace/${NAMESPACE}`,
        'Role/argo-rollouts/rollout-doctor',
        'RoleBinding/argo-rollouts/rollout-doctor',
        `Service/${NAMESPACE}/rollout-doctor`,
        `ServiceAccount/${NAMESPACE}/rollout-doctor`,
        `VMRule/${NAMESPACE}/rollout-doctor`,
        `VMServiceScrape/${NAMESPACE}/rollout-doctor`,
      ].sort(),
    );
  });

  it('validates every object offline', () => {
    expect(objects.flatMap(validateObject)).toEqual([]);
  });

  it('carries deploy/homelab.yaml as the config, valid for rollout-doctor', () => {
    const configMap = objects.find((o) => o.kind === 'ConfigMap')!;
    const text = (configMap['data'] as Record<string, string>)['config.yaml']!;
    expect(text).toBe(readFileSync(DEPLOY_CONFIG, 'utf8'));
    expect(() => parseConfig(parse(text), 'config.yaml')).not.toThrow();
  });

  it('runs `serve` from the image with the mounted config, as the service account, with its token', () => {
    const deployment = findObject(objects, 'Deployment', 'rollout-doctor', NAMESPACE) as Json;
    const pod = deployment['spec'].template.spec;
    const [container, ...others] = pod.containers;
    expect(others).toEqual([]);
    expect(pod.serviceAccountName).toBe(SERVICE_ACCOUNT.name);
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(container.image).toBe(`ghcr.io/homelab/rollout-doctor:${PACKAGE.version}`);
    const configMap = objects.find((o) => o.kind === 'ConfigMap')!;
    const volume = pod.volumes.find((v: Json) => v.configMap?.name === configMap.metadata.name);
    expect(volume, 'no volume mounts the generated ConfigMap').toBeDefined();
    const mount = container.volumeMounts.find((m: Json) => m.name === volume.name);
    expect(mount.readOnly).toBe(true);
    const configArg = container.args[container.args.indexOf('--config') + 1];
    expect(configArg).toBe(`${mount.mountPath}/config.yaml`);
    const litellm = container.env.find((e: Json) => e.name === 'LITELLM_KEY');
    expect(litellm.valueFrom.secretKeyRef).toEqual({ name: 'rollout-doctor-tokens', key: 'LITELLM_KEY', optional: true });
    expect(readFileSync(DEPLOY_CONFIG, 'utf8')).toContain('env: LITELLM_KEY');
  });

  it('meets the restricted Pod Security Standard the namespace enforces', () => {
    const namespace = findObject(objects, 'Namespace', NAMESPACE);
    expect(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const pod = (findObject(objects, 'Deployment', 'rollout-doctor', NAMESPACE) as Json)['spec'].template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.hostPID ?? false).toBe(false);
    for (const container of pod.containers) {
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(container.securityContext.capabilities.add).toBeUndefined();
      expect(container.securityContext.privileged ?? false).toBe(false);
      expect(container.securityContext.runAsUser ?? pod.securityContext.runAsUser).toBeGreaterThan(0);
    }
    expect(pod.volumes.every((v: Json) => v.hostPath === undefined)).toBe(true);
  });

  it('has one replica, requests and limits, and probes /livez and /readyz on the metrics port', () => {
    const deployment = findObject(objects, 'Deployment', 'rollout-doctor', NAMESPACE) as Json;
    expect(deployment['spec'].replicas).toBe(1);
    const container = deployment['spec'].template.spec.containers[0];
    expect(Object.keys(container.resources.requests).sort()).toEqual(['cpu', 'memory']);
    expect(container.resources.limits.memory).toBeDefined();
    const port = container.ports.find((p: Json) => p.name === 'http-metrics');
    expect(port.containerPort).toBe(9464);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'http-metrics' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http-metrics' });
    // The heap cap leaves room under the memory limit for code and buffers (about 150 MiB at start).
    const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(container.env.find((e: Json) => e.name === 'NODE_OPTIONS')?.value ?? '')?.[1]);
    const limitMiB = Number(/^(\d+)Mi$/.exec(container.resources.limits.memory)?.[1]);
    expect(heapMiB + 150).toBeLessThanOrEqual(limitMiB);
  });

  it('selects the pods with the Service, and the Service with the VMServiceScrape, which adds the cluster label', () => {
    const deployment = findObject(objects, 'Deployment', 'rollout-doctor', NAMESPACE) as Json;
    const podLabels = deployment['spec'].template.metadata.labels;
    expect(selects(deployment['spec'].selector.matchLabels, podLabels)).toBe(true);
    const service = findObject(objects, 'Service', 'rollout-doctor', NAMESPACE) as Json;
    expect(selects(service['spec'].selector, podLabels)).toBe(true);
    expect(service['spec'].ports).toEqual([{ name: 'http-metrics', port: 9464, targetPort: 'http-metrics', protocol: 'TCP' }]);
    const scrape = findObject(objects, 'VMServiceScrape', 'rollout-doctor', NAMESPACE) as Json;
    expect(selects(scrape['spec'].selector.matchLabels, service.metadata.labels)).toBe(true);
    expect(scrape['spec'].namespaceSelector.matchNames).toContain(NAMESPACE);
    const [endpoint] = scrape['spec'].endpoints;
    expect(endpoint).toMatchObject({ port: 'http-metrics', path: '/metrics' });
    expect(endpoint.relabelConfigs).toContainEqual({ action: 'replace', targetLabel: 'cluster', replacement: 'homelab' });
  });

  it('loads the alert rules, among them rollout-doctor down aggregated without instance labels', () => {
    const rule = findObject(objects, 'VMRule', 'rollout-doctor', NAMESPACE) as Json;
    const alerts = rule['spec'].groups.flatMap((g: Json) => g.rules.filter((r: Json) => r.alert));
    const down = alerts.find((a: Json) => a.alert === 'RolloutDoctorDown');
    expect(down.expr).toContain('up{job="rollout-doctor"}');
    expect(down.expr).toMatch(/max by \([^)]*\bcluster\b[^)]*\)/);
    expect(down.expr).not.toMatch(/by \([^)]*\b(instance|pod)\b/);
  });

  it('leaves the Argo CD Application and the Dockerfile out of the base', () => {
    expect(objects.some((o) => o.kind === 'Application')).toBe(false);
    const kustomization = parse(readFileSync(path.join(DEPLOY_DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect(kustomization.resources).not.toContain('argocd-application.yaml');
  });
});

describe.runIf(kubectl)('the Prometheus Operator component', () => {
  let base: KubeObject[];
  let objects: KubeObject[];
  beforeAll(() => {
    base = renderKustomize(kubectl!, DEPLOY_DIR);
    objects = renderKustomize(kubectl!, path.join(REPO, 'test', 'deploy', 'prometheus-operator'));
  });

  it('replaces the VMServiceScrape and VMRule with a ServiceMonitor and a PrometheusRule, and keeps the rest', () => {
    expect(objects.filter((o) => o.apiVersion.startsWith('operator.victoriametrics.com/'))).toEqual([]);
    const isVm = (o: KubeObject) => o.apiVersion.startsWith('operator.victoriametrics.com/');
    expect(kinds(objects)).toEqual(kinds([...base.filter((o) => !isVm(o)), findObject(objects, 'ServiceMonitor', 'rollout-doctor', NAMESPACE), findObject(objects, 'PrometheusRule', 'rollout-doctor', NAMESPACE)]));
    expect(objects.filter((o) => !['ServiceMonitor', 'PrometheusRule'].includes(o.kind))).toEqual(base.filter((o) => !isVm(o)));
    expect(objects.flatMap(validateObject)).toEqual([]);
  });

  it('scrapes the same Service with the same cluster label', () => {
    const monitor = findObject(objects, 'ServiceMonitor', 'rollout-doctor', NAMESPACE) as Json;
    const scrape = findObject(base, 'VMServiceScrape', 'rollout-doctor', NAMESPACE) as Json;
    expect(monitor['spec'].selector).toEqual(scrape['spec'].selector);
    expect(monitor['spec'].namespaceSelector).toEqual(scrape['spec'].namespaceSelector);
    const { relabelings, ...endpoint } = monitor['spec'].endpoints[0];
    const { relabelConfigs, ...vmEndpoint } = scrape['spec'].endpoints[0];
    expect(endpoint).toEqual(vmEndpoint);
    expect(relabelings).toEqual(relabelConfigs);
  });

  it('loads the same rule groups as the VMRule', () => {
    const prometheusRule = findObject(objects, 'PrometheusRule', 'rollout-doctor', NAMESPACE) as Json;
    const vmRule = findObject(base, 'VMRule', 'rollout-doctor', NAMESPACE) as Json;
    expect(prometheusRule['spec'].groups).toEqual(vmRule['spec'].groups);
  });
});

describe('deploy/argocd-application.yaml', () => {
  const [application, ...others] = readObjects(path.join(DEPLOY_DIR, 'argocd-application.yaml')) as Json[];

  it('is one valid Application that syncs deploy/ into the rollout-doctor namespace', () => {
    expect(others).toEqual([]);
    expect(validateObject(application as KubeObject)).toEqual([]);
    expect(application!['kind']).toBe('Application');
    expect(application!['spec'].source.path).toBe(path.relative(REPO, DEPLOY_DIR));
    expect(application!['spec'].destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: NAMESPACE });
  });

  it('prunes last and refuses shared resources; the base creates its own Namespace', () => {
    const options: string[] = application!['spec'].syncPolicy.syncOptions;
    expect(options).toEqual(expect.arrayContaining(['PruneLast=true', 'FailOnSharedResource=true']));
    expect(options.some((o) => o.startsWith('CreateNamespace='))).toBe(false);
    expect(options.some((o) => o.startsWith('ServerSideApply='))).toBe(false);
    expect(readObjects(path.join(DEPLOY_DIR, 'namespace.yaml')).map((o) => o.kind)).toEqual(['Namespace']);
  });
});
