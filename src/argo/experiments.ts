/**
 * Experiments a Rollout's experiment steps create, read as the controller writes them (argo-rollouts
 * v1.7.2-v1.10.0-rc1, unchanged):
 *
 * - rollout/experiment.go GetExperimentFromTemplate: the Experiment `<rollout>-<podHash>-<revision>-
 *   <stepIndex>` is controlled by the Rollout (ownerReference), labelled with the Rollout's labels and
 *   rollouts-pod-template-hash (the new revision's), annotated with its revision. reconcileExperiments:
 *   an Inconclusive Experiment pauses the Rollout (InconclusiveExperiment), a Failed or Error one
 *   aborts it ("Experiment analysis phase is error/failed: <message>"), a running one is
 *   status.canary.currentExperiment.
 * - experiments/experiment.go newAnalysisRun: its AnalysisRuns `<experiment>-<analysis>` are
 *   controlled by the Experiment, not the Rollout, and carry neither rollouts-pod-template-hash nor
 *   rollout-type nor step-index; experiments/replicaset.go: its ReplicaSets `<experiment>-<template>`
 *   are controlled by it too.
 * - status: phase, message, templateStatuses[] (per template: replicas, ready, available, status,
 *   message), analysisRuns[] (name, analysisRun, phase, message copied from the run).
 * - pkg/kubectl-argo-rollouts/info/experiment_info.go getExperimentInfo: a Rollout's Experiments are
 *   the ones it owns (by UID); an Experiment's ReplicaSets and AnalysisRuns the ones it owns.
 */
import type { CustomObject, ReplicaSet, Rollout } from '../kube/types.js';
import { POD_TEMPLATE_HASH_LABEL } from './names.js';
import { listOf } from './rollout-info.js';

type Owned = { metadata?: { namespace?: string; ownerReferences?: { uid?: string; kind?: string; name?: string }[] } };

/** Owned by `owner` (its UID; its kind and name for objects written without UIDs). */
export function isOwnedBy(object: Owned, owner: { kind: string; metadata: { namespace?: string; name?: string; uid?: string } }): boolean {
  if ((object.metadata?.namespace ?? '') !== (owner.metadata.namespace ?? '')) return false;
  return listOf<{ uid?: string; kind?: string; name?: string }>(object.metadata?.ownerReferences).some((ref) =>
    owner.metadata.uid ? ref.uid === owner.metadata.uid : ref.kind === owner.kind && ref.name === owner.metadata.name,
  );
}

/** The Experiments a Rollout owns, newest first. */
function rolloutExperiments(rollout: Rollout, experiments: readonly CustomObject[]): CustomObject[] {
  const ro = { kind: 'Rollout', metadata: rollout.metadata };
  return experiments
    .filter((ex) => isOwnedBy(ex, ro))
    .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (b.metadata.name ?? '').localeCompare(a.metadata.name ?? ''));
}

/** The Experiments of the Rollout's current revision (labelled with its currentPodHash). */
export function currentRevisionExperiments(rollout: Rollout, experiments: readonly CustomObject[]): CustomObject[] {
  const hash = rollout.status?.currentPodHash;
  if (!hash) return [];
  return rolloutExperiments(rollout, experiments).filter((ex) => ex.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] === hash);
}

/** The AnalysisRuns an Experiment owns. */
export function experimentRuns(experiment: CustomObject, runs: readonly CustomObject[]): CustomObject[] {
  return runs.filter((run) => isOwnedBy(run, { kind: 'Experiment', metadata: experiment.metadata }));
}

export interface ExperimentReplicaSet {
  name: string;
  /** The experiment template it runs (experiment.argoproj.io/template-name). */
  template?: string;
  replicas: number;
  ready: number;
  available: number;
}

export interface ExperimentState {
  name: string;
  phase: string;
  message: string;
  /** status.templateStatuses: per template, its status and message. */
  templates: { name: string; status: string; message?: string }[];
  /** status.analysisRuns. */
  analysisRuns: { name: string; analysisRun: string; phase: string; message?: string }[];
  /** Its ReplicaSets, when they were read. */
  replicaSets?: ExperimentReplicaSet[];
}

const TEMPLATE_NAME_ANNOTATION = 'experiment.argoproj.io/template-name';

export function experimentState(experiment: CustomObject, replicaSets?: readonly ReplicaSet[]): ExperimentState {
  const status = (experiment.status ?? {}) as {
    phase?: string;
    message?: string;
    templateStatuses?: { name?: string; status?: string; message?: string }[];
    analysisRuns?: { name?: string; analysisRun?: string; phase?: string; message?: string }[];
  };
  const owner = { kind: 'Experiment', metadata: experiment.metadata };
  const state: ExperimentState = {
    name: experiment.metadata.name ?? '',
    phase: status.phase || 'Pending',
    message: status.message ?? '',
    templates: listOf<{ name?: string; status?: string; message?: string }>(status.templateStatuses).map((t) => ({
      name: t.name ?? '',
      status: t.status ?? '',
      ...(t.message ? { message: t.message } : {}),
    })),
    analysisRuns: listOf<{ name?: string; analysisRun?: string; phase?: string; message?: string }>(status.analysisRuns).map((r) => ({
      name: r.name ?? '',
      analysisRun: r.analysisRun ?? '',
      phase: r.phase ?? '',
      ...(r.message ? { message: r.message } : {}),
    })),
  };
  if (replicaSets) {
    state.replicaSets = replicaSets
      .filter((rs) => isOwnedBy(rs, owner))
      .map((rs) => {
        const template = rs.metadata?.annotations?.[TEMPLATE_NAME_ANNOTATION];
        return {
          name: rs.metadata?.name ?? '',
          ...(template ? { template } : {}),
          replicas: rs.status?.replicas ?? 0,
          ready: rs.status?.readyReplicas ?? 0,
          available: rs.status?.availableReplicas ?? 0,
        };
      });
  }
  return state;
}
