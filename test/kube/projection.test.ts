/**
 * The projections keep every field a check reads. Every fixture case of every check runs once more
 * with its objects wrapped in proxies that record each field read (a value read, a key tested with
 * `in`, the keys enumerated), through the real simulator, client-node and runner; then each recorded
 * path must be one the kind's projection keeps. A check that starts reading a field its projection
 * drops fails here, whether or not a fixture happens to carry a value for it. (The fixture goldens,
 * test/checks, run on projected objects and must not change either.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_CHECKS } from '../../src/checks/index.js';
import { enabledChecks, runCycle } from '../../src/engine/runner.js';
import { KubeClient, loadKubeConfig } from '../../src/kube/client.js';
import { ListSource } from '../../src/kube/lists.js';
import { keepsPath, PROJECTIONS, project } from '../../src/kube/projection.js';
import { HttpProber } from '../../src/probe/http.js';
import { startSimulation } from '../../src/simulator/session.js';
import { caseConfig, fixtureCases, withEnv } from '../helpers/cases.js';

/** Paths read, per kind, as JSON arrays of segments (label keys hold dots): `["spec","strategy","canary","steps","[]","setWeight"]`. */
const reads = new Map<string, Set<string>>();

function record(key: string, path: readonly string[]): void {
  let paths = reads.get(key);
  if (!paths) reads.set(key, (paths = new Set()));
  paths.add(JSON.stringify(path));
}

const segments = (path: string) => JSON.parse(path) as string[];

/** `value` behind a proxy that records every read below `path`; one proxy per object keeps identities stable. */
function recording(value: unknown, key: string, path: readonly string[], proxies: WeakMap<object, unknown>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const existing = proxies.get(value);
  if (existing) return existing;
  const isArray = Array.isArray(value);
  const proxy = new Proxy(value, {
    get(target, prop, receiver) {
      if (typeof prop === 'symbol') return Reflect.get(target, prop, receiver);
      if (isArray) {
        if (prop === 'length') {
          record(key, path);
          return Reflect.get(target, prop, receiver);
        }
        if (/^\d+$/.test(prop)) return recording(Reflect.get(target, prop, receiver), key, [...path, '[]'], proxies);
        return Reflect.get(target, prop, receiver);
      }
      // Inherited members (toString, hasOwnProperty) are not fields.
      if (!Object.hasOwn(target, prop) && prop in target) return Reflect.get(target, prop, receiver);
      const child = [...path, prop];
      record(key, child);
      return recording(Reflect.get(target, prop, receiver), key, child, proxies);
    },
    has(target, prop) {
      if (typeof prop === 'string' && !isArray) record(key, [...path, prop]);
      return Reflect.has(target, prop);
    },
    ownKeys(target) {
      record(key, [...path, isArray ? '[]' : '*']);
      return Reflect.ownKeys(target);
    },
  });
  proxies.set(value, proxy);
  return proxy;
}

const CASES = ALL_CHECKS.flatMap((check) => fixtureCases(check.id).map((fixture) => ({ check: check.id, fixture })));

afterAll(() => {
  if (process.env.PRINT_READS !== '1') return;
  for (const [key, paths] of [...reads].sort()) process.stdout.write(`${key}\n${[...paths].map((p) => `  ${segments(p).join('.')}`).sort().join('\n')}\n`);
});

describe('projections', () => {
  it('keep what they name and nothing else; metadata without managedFields or the last-applied annotation', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'p',
        namespace: 'n',
        managedFields: [{ manager: 'kubectl' }],
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":true}', keep: 'me' },
      },
      spec: { volumes: [{ name: 'v' }], containers: [{ name: 'c', image: 'i', env: [{ name: 'SECRET', value: 'x' }] }] },
    };
    expect(project(pod, { spec: { containers: { name: true, image: true } } })).toEqual({ spec: { containers: [{ name: 'c', image: 'i' }] } });
    expect(project('not an object', { spec: true })).toBe('not an object');
    expect(keepsPath('pods', ['metadata', 'managedFields'])).toBe(false);
    expect(Object.keys(PROJECTIONS).length).toBeGreaterThan(0);
  });

  it(
    `keep every field the checks read in ${CASES.length} fixture cases`,
    async () => {
      for (const { check, fixture } of CASES) {
        const { faults, now, config: over, enforceRbacSubject, checks: ids, env = {} } = fixture.expected;
        const loaded = await caseConfig(fixture.dir, over);
        const simulation = await startSimulation({ dir: fixture.dir, faults, now: now ? new Date(now) : undefined, ephemeralAppPorts: true, enforceRbacSubject });
        const client = new KubeClient(loadKubeConfig({ kubeconfig: simulation.kubeconfig }), { requestTimeoutMs: loaded.config.timeouts.requestMs });
        const prober = new HttpProber(simulation.outbound);
        const proxies = new WeakMap<object, unknown>();
        const source = new ListSource(client, (query) => (raw) => recording(raw, query.key, [], proxies));
        try {
          await withEnv(env, async () => {
            const outcome = await runCycle({
              client,
              source,
              config: loaded.config,
              checks: enabledChecks(ALL_CHECKS, loaded.config, ids ?? [check]),
              prober,
              signal: new AbortController().signal,
              now: () => new Date(),
              evaluationTime: now ? () => new Date(now) : undefined,
            });
            // What /health serializes of the results is read too (details built from objects).
            JSON.stringify(outcome.runs.map((run) => run.results));
          });
        } finally {
          await prober.close();
          await client.close();
          await simulation.close();
        }
      }
      const dropped = [...reads].flatMap(([key, paths]) => [...paths].filter((p) => !keepsPath(key, segments(p))).map((p) => `${key}: ${segments(p).join('.')}`));
      expect(dropped, 'fields the checks read that the projections drop (src/kube/projection.ts)').toEqual([]);
    },
    300_000,
  );
});
