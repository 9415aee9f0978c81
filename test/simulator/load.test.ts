import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { listScenarioFiles, loadScenario, startSimulator } from '../../src/simulator/index.js';
import { listScenarios, readScenarioManifest, scenarioConfigFile, scenarioLogsDir } from '../../src/simulator/load.js';
import { apiError, kubeConfigFor, removeDir, writeScenario } from './helpers.js';

const FILES: Record<string, string> = {
  'b/pods.yaml': `
apiVersion: v1
kind: Pod
metadata: { name: no-namespace }
---
# a document without apiVersion/kind is skipped
foo: bar
---
apiVersion: v1
kind: Pod
metadata: { name: in-ns, namespace: team-a, resourceVersion: "500" }
`,
  'a/list.yml': `
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: { name: from-list, namespace: team-a }
  - apiVersion: v1
    kind: Namespace
    metadata: { name: team-a }
`,
  'c/typed.json': JSON.stringify({
    apiVersion: 'v1',
    kind: 'ServiceList',
    items: [{ metadata: { name: 'typed-item', namespace: 'team-a' }, spec: {} }],
  }),
  'rollout-doctor.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: daemon-config }\n',
  'c/expected.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: expectations }\n',
  'logs/team-a/x.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: under-logs }\n',
  'notes.txt': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: not-yaml }\n',
  'd/crd.yaml': `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.example.com }
spec:
  group: example.com
  names: { kind: Widget, plural: widgets, singular: widget }
  scope: Cluster
  versions: [{ name: v1beta1, served: true, storage: true }]
`,
  // Sorted before the CRD, yet gets the CRD's cluster scope.
  'd/a-widget.yaml': 'apiVersion: example.com/v1beta1\nkind: Widget\nmetadata: { name: w1 }\n',
};

describe('loadScenario', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await writeScenario(FILES);
  });
  afterAll(() => removeDir(dir));

  it('lists object files sorted by path, skipping the daemon config, expectations, logs/ and other extensions', async () => {
    expect(await listScenarioFiles(dir)).toEqual(['a/list.yml', 'b/pods.yaml', 'c/typed.json', 'd/a-widget.yaml', 'd/crd.yaml']);
  });

  it('expands Lists, skips untyped documents, defaults the namespace and fills resourceVersions', async () => {
    const objects = await loadScenario(dir);
    const names = objects.map((o) => `${o['kind']}/${(o['metadata'] as any).namespace ?? ''}/${(o['metadata'] as any).name}`);
    expect(names).toEqual([
      'ConfigMap/team-a/from-list',
      'Namespace//team-a',
      'Pod/default/no-namespace',
      'Pod/team-a/in-ns',
      'Service/team-a/typed-item',
      'Widget//w1',
      'CustomResourceDefinition//widgets.example.com',
    ]);
    const rvs = objects.map((o) => (o['metadata'] as any).resourceVersion);
    // Explicit versions are kept; missing ones come from a counter above the highest one present.
    expect(rvs[3]).toBe('500');
    expect(rvs.filter((_, i) => i !== 3).map(Number)).toEqual([501, 502, 503, 504, 505, 506]);
    expect(objects[4]).toMatchObject({ apiVersion: 'v1', kind: 'Service' });
  });

  it('names the file of a broken YAML document', async () => {
    const bad = await writeScenario({ 'broken.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: { name: [\n' });
    try {
      await expect(loadScenario(bad)).rejects.toThrow(/broken\.yaml: document 1/);
    } finally {
      await removeDir(bad);
    }
  });

  it('serves what it loaded, with CRD-registered kinds at their CRD version and scope', async () => {
    const sim = await startSimulator({ dir });
    try {
      const kc = kubeConfigFor(sim);
      const core = kc.makeApiClient(CoreV1Api);
      const pods = await core.listNamespacedPod({ namespace: 'default' });
      expect(pods.items.map((p) => p.metadata?.name)).toEqual(['no-namespace']);
      expect(pods.items[0]?.metadata?.namespace).toBe('default');
      const cms = await core.listConfigMapForAllNamespaces();
      expect(cms.items.map((c) => c.metadata?.name)).toEqual(['from-list']);
      const custom = kc.makeApiClient(CustomObjectsApi);
      const widgets = (await custom.listClusterCustomObject({ group: 'example.com', version: 'v1beta1', plural: 'widgets' })) as any;
      expect(widgets.kind).toBe('WidgetList');
      expect(widgets.items.map((w: any) => w.metadata.name)).toEqual(['w1']);
      const wrongVersion = await apiError(custom.listClusterCustomObject({ group: 'example.com', version: 'v1', plural: 'widgets' }));
      expect(wrongVersion.code).toBe(404);
    } finally {
      await sim.close();
    }
  });

  it('loads options.objects after the folder, replacing objects of the same name', async () => {
    const sim = await startSimulator({
      dir,
      objects: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'no-namespace' }, spec: { containers: [{ name: 'replaced' }] } }],
    });
    try {
      const pods = sim.objects('Pod');
      expect(pods).toHaveLength(2);
      expect((pods.find((p: any) => p.metadata.name === 'no-namespace') as any).spec.containers[0].name).toBe('replaced');
    } finally {
      await sim.close();
    }
  });
});

describe('a case folder beside a _base/ folder overlays it', () => {
  const pod = (name: string, image: string) => `apiVersion: v1\nkind: Pod\nmetadata: { name: ${name}, namespace: shop }\nspec: { containers: [{ name: app, image: ${image} }] }\n`;
  let root: string;
  beforeAll(async () => {
    root = await writeScenario({
      '_base/pods.yaml': [pod('a', 'v1'), pod('b', 'v1'), pod('c', 'v1')].join('---\n'),
      '_base/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings, namespace: shop }\ndata: { mode: base }\n',
      'case/pods.yaml': [pod('b', 'v2'), pod('d', 'v2')].join('---\n'),
      'case/removed.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: { name: c, namespace: shop }\n$delete: true\n',
      'case/expected.yaml': 'results: []\n',
      'typo/removed.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: { name: nope, namespace: shop }\n$delete: true\n',
    });
  });
  afterAll(() => removeDir(root));

  const images = (objects: Record<string, unknown>[]) =>
    objects.map((o) => `${o['kind']}/${(o['metadata'] as any).name}${o['kind'] === 'Pod' ? `=${(o['spec'] as any).containers[0].image}` : ''}`);

  it('replaces objects of the same kind, namespace and name, adds new ones and $delete removes', async () => {
    expect(images(await loadScenario(path.join(root, 'case')))).toEqual(['ConfigMap/settings', 'Pod/a=v1', 'Pod/b=v2', 'Pod/d=v2']);
  });

  it('loads the base itself as a scenario', async () => {
    expect(images(await loadScenario(path.join(root, '_base')))).toEqual(['ConfigMap/settings', 'Pod/a=v1', 'Pod/b=v1', 'Pod/c=v1']);
  });

  it('names a $delete that matches nothing, and one without a base', async () => {
    await expect(loadScenario(path.join(root, 'typo'))).rejects.toThrow(/typo\/removed\.yaml: \$delete names v1 Pod shop\/nope, which the base does not have/);
    const alone = await writeScenario({ 'removed.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: { name: x }\n$delete: true\n' });
    try {
      await expect(loadScenario(alone)).rejects.toThrow(/\$delete removes an object of a _base\/ scenario/);
    } finally {
      await removeDir(alone);
    }
  });

  it('the simulator serves the overlaid objects', async () => {
    const sim = await startSimulator({ dir: path.join(root, 'case') });
    try {
      const pods = await kubeConfigFor(sim).makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'shop' });
      expect(pods.items.map((p) => `${p.metadata?.name}=${p.spec?.containers[0]?.image}`)).toEqual(['a=v1', 'b=v2', 'd=v2']);
    } finally {
      await sim.close();
    }
  });
});

describe('a scenario.yaml names its base, describes the scenario and fixes its time', () => {
  const cm = (name: string, mode: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${name}, namespace: shop }\ndata: { mode: ${mode} }\n`;
  let root: string;
  beforeAll(async () => {
    root = await writeScenario({
      'base/cms.yaml': [cm('a', 'base'), cm('b', 'base')].join('---\n'),
      'base/rollout-doctor.yaml': 'schedule: "*/20 * * * * *"\n',
      'base/logs/shop/p.log': 'from the base\n',
      'base/scenario.yaml': 'description: the base\n',
      'middle/scenario.yaml': 'base: ../base\n',
      'middle/cms.yaml': cm('b', 'middle'),
      'top/scenario.yaml': 'description: on top of the middle\nbase: ../middle\nnow: "2026-11-26T13:58:00Z"\n',
      'top/cms.yaml': [cm('c', 'top'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a, namespace: shop }\n$delete: true\n'].join('---\n'),
      'loop-a/scenario.yaml': 'base: ../loop-b\n',
      'loop-b/scenario.yaml': 'base: ../loop-a\n',
      'nowhere/scenario.yaml': 'base: ../missing\n',
      'typo/scenario.yaml': 'descripton: x\n',
      'bomb/objects.yaml': readFileSync(path.resolve('test/fixtures/config/invalid-alias-bomb.yaml'), 'utf8'),
    });
  });
  afterAll(() => removeDir(root));

  const data = (objects: Record<string, unknown>[]) => objects.map((o) => `${(o['metadata'] as { name: string }).name}=${(o['data'] as { mode: string }).mode}`);

  it('overlays a chain of bases, farthest first', async () => {
    expect(data(await loadScenario(path.join(root, 'middle')))).toEqual(['a=base', 'b=middle']);
    expect(data(await loadScenario(path.join(root, 'top')))).toEqual(['b=middle', 'c=top']);
  });

  it('serves the nearest logs/ and uses the nearest rollout-doctor.yaml', async () => {
    expect(await scenarioLogsDir(path.join(root, 'top'))).toBe(path.join(root, 'top', '..', 'middle', '..', 'base', 'logs'));
    expect(await scenarioConfigFile(path.join(root, 'top'))).toBe(path.join(root, 'top', '..', 'middle', '..', 'base', 'rollout-doctor.yaml'));
  });

  it('reads the description and the time; the simulator runs at that time', async () => {
    expect(await readScenarioManifest(path.join(root, 'top'))).toEqual({
      description: 'on top of the middle',
      base: path.join(root, 'top', '..', 'middle'),
      now: new Date('2026-11-26T13:58:00Z'),
    });
    expect(await readScenarioManifest(path.join(root, 'base', 'logs'))).toEqual({});
    const sim = await startSimulator({ dir: path.join(root, 'top') });
    try {
      expect(sim.now).toEqual(new Date('2026-11-26T13:58:00Z'));
    } finally {
      await sim.close();
    }
  });

  it('lists the scenarios of a folder with their descriptions, not those starting with _', async () => {
    const scenarios = await writeScenario({
      '_shared/scenario.yaml': 'description: a base only\n',
      'one/scenario.yaml': 'description: the first\nbase: ../_shared\n',
      'two/objects.yaml': cm('x', 'two'),
      'notes.md': 'not a scenario\n',
    });
    try {
      expect((await listScenarios(scenarios)).map((s) => [s.name, s.description])).toEqual([
        ['one', 'the first'],
        ['two', undefined],
      ]);
    } finally {
      await removeDir(scenarios);
    }
  });

  it('names a cycle, a missing base, an unknown key and an alias bomb with the file', async () => {
    await expect(loadScenario(path.join(root, 'loop-a'))).rejects.toThrow(/scenario\.yaml: base: .*loop-a is already in the chain/);
    await expect(loadScenario(path.join(root, 'nowhere'))).rejects.toThrow(`${path.join(root, 'nowhere', 'scenario.yaml')}: base: ../missing: no such scenario folder`);
    await expect(readScenarioManifest(path.join(root, 'typo'))).rejects.toThrow(`${path.join(root, 'typo', 'scenario.yaml')}: document: Unrecognized key: "descripton"`);
    await expect(loadScenario(path.join(root, 'bomb'))).rejects.toThrow(
      `${path.join(root, 'bomb', 'objects.yaml')}: document 1: YAML aliases expand too far (the parser stops past 100 expansions: an alias bomb?); write the values out instead of aliasing them`,
    );
  });
});
