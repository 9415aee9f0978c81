/**
 * Memory the cache holds per object, by kind, for docs/cache.md: the V8 heap a kind's objects take
 * whole (as JSON.parse makes them) and projected (src/kube/projection.ts), measured on the bench's
 * generated 1,000-rollout cluster (npm run bench writes it to .tmp/bench/scenario-1000).
 *
 *   node --expose-gc --import tsx test/bench/object-memory.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectorFor } from '../../src/kube/projection.js';

const DIR = path.resolve(import.meta.dirname, '../../.tmp/bench/scenario-1000');
const KEYS: Record<string, string> = { Rollout: 'rollouts', ReplicaSet: 'replicasets', Pod: 'pods', Service: 'services', EndpointSlice: 'endpointslices', AnalysisRun: 'analysisruns', AnalysisTemplate: 'analysistemplates' };
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const texts = new Map<string, string[]>();
for (const file of readdirSync(DIR).filter((f) => f.startsWith('apps-'))) {
  const list = JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as { items: { kind: string }[] };
  for (const item of list.items) {
    if (!(item.kind in KEYS)) continue;
    texts.set(item.kind, [...(texts.get(item.kind) ?? []), JSON.stringify(item)]);
  }
}

function heapOf(make: () => unknown[]): number {
  gc!();
  const before = process.memoryUsage().heapUsed;
  const held = make();
  gc!();
  const after = process.memoryUsage().heapUsed;
  if (held.length === 0) throw new Error('nothing held');
  return (after - before) / held.length;
}

console.log('| Kind | objects | whole, bytes per object | projected, bytes per object |');
console.log('|---|---|---|---|');
for (const [kind, items] of texts) {
  const project = projectorFor({ key: KEYS[kind]! });
  const whole = heapOf(() => items.map((t) => JSON.parse(t)));
  const projected = heapOf(() => items.map((t) => project(JSON.parse(t))));
  console.log(`| ${kind} | ${items.length} | ${Math.round(whole)} | ${Math.round(projected)} |`);
}
