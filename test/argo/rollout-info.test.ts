/**
 * ownedReplicaSetsOf (src/argo/rollout-info.ts): the index rollout-status builds once per cycle gives
 * each Rollout exactly what filtering the list gives it (`ownedReplicaSets` below, the per-Rollout
 * filter it replaced), in the same order: namespace and owner uid both, a ReplicaSet listing its
 * owner twice once, objects without a uid as before.
 */
import { describe, expect, it } from 'vitest';
import { ownedReplicaSetsOf } from '../../src/argo/rollout-info.js';
import type { ReplicaSet, Rollout } from '../../src/kube/types.js';

/** The reference: every ReplicaSet of the Rollout's namespace with an owner reference of its UID. */
const ownedReplicaSets = (rollout: Rollout, replicaSets: readonly ReplicaSet[]) =>
  replicaSets.filter((rs) => rs.metadata?.namespace === rollout.metadata.namespace && (rs.metadata?.ownerReferences ?? []).some((ref) => ref.uid === rollout.metadata.uid));

const rollout = (namespace: string, name: string, uid?: string) => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { namespace, name, ...(uid ? { uid } : {}) } }) as Rollout;
const replicaSet = (namespace: string, name: string, ...owners: (string | undefined)[]) =>
  ({ metadata: { namespace, name, ownerReferences: owners.map((uid) => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'x', ...(uid ? { uid } : {}) })) } }) as ReplicaSet;

describe('ownedReplicaSetsOf', () => {
  it('gives each Rollout what filtering the list gives it', () => {
    const replicaSets = [
      replicaSet('a', 'rs-1', 'u1'),
      replicaSet('b', 'rs-2', 'u1'),
      replicaSet('a', 'rs-3', 'u2', 'u1', 'u1'),
      replicaSet('a', 'rs-4'),
      replicaSet('a', 'rs-5', undefined),
      { metadata: { namespace: 'a', name: 'rs-6' } } as ReplicaSet,
      replicaSet('a', 'rs-7', 'u1'),
    ];
    const ownedBy = ownedReplicaSetsOf(replicaSets);
    for (const r of [rollout('a', 'one', 'u1'), rollout('b', 'one', 'u1'), rollout('a', 'two', 'u2'), rollout('a', 'no-uid'), rollout('c', 'none', 'u9')]) {
      expect(ownedBy(r).map((rs) => rs.metadata?.name), r.metadata.name).toEqual(ownedReplicaSets(r, replicaSets).map((rs) => rs.metadata?.name));
    }
    expect(ownedBy(rollout('a', 'one', 'u1')).map((rs) => rs.metadata?.name)).toEqual(['rs-1', 'rs-3', 'rs-7']);
  });
});
