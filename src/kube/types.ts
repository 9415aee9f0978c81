/**
 * Object types the checks read: every object arrives as the API server's JSON (the snapshot reads
 * lists raw; see KubeClient.requestJson), so timestamps are strings. Built-in kinds take their shape
 * from client-node's models with Date turned into string (src/kube stays the only importer of the
 * library); custom resources are typed loosely here, with the fields the checks use.
 */
import type {
  CoreV1Event,
  V1ConfigMap,
  V1ContainerStatus,
  V1Deployment,
  V1EndpointSlice,
  V1Endpoints,
  V1LabelSelector,
  V1ObjectMeta,
  V1Pod,
  V1ReplicaSet,
  V1Service,
} from '@kubernetes/client-node';

/** A model as JSON: Date fields are the RFC 3339 strings the API server sends. */
export type Jsonify<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Jsonify<U>[]
    : T extends object
      ? { [K in keyof T]: Jsonify<T[K]> }
      : T;

export type ConfigMap = Jsonify<V1ConfigMap>;
export type Deployment = Jsonify<V1Deployment>;
export type EndpointSlice = Jsonify<V1EndpointSlice>;
export type Endpoints = Jsonify<V1Endpoints>;
export type Event = Jsonify<CoreV1Event>;
export type Pod = Jsonify<V1Pod>;
export type ContainerStatus = Jsonify<V1ContainerStatus>;
export type ReplicaSet = Jsonify<V1ReplicaSet>;
export type Service = Jsonify<V1Service>;
export type ObjectMeta = Jsonify<V1ObjectMeta>;
export type LabelSelector = Jsonify<V1LabelSelector>;

/** Metadata as custom resources carry it (JSON: timestamps are strings). */
export interface CustomObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion?: string; kind?: string; name?: string; uid?: string; controller?: boolean }[];
}

export interface CustomObject {
  apiVersion?: string;
  kind?: string;
  metadata: CustomObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
}

export interface RolloutStep {
  setWeight?: number;
  pause?: { duration?: string | number };
  analysis?: { templates?: { templateName?: string; clusterScope?: boolean }[]; args?: AnalysisArg[] };
  experiment?: Record<string, unknown>;
  setCanaryScale?: Record<string, unknown>;
  setHeaderRoute?: Record<string, unknown>;
  setMirrorRoute?: Record<string, unknown>;
  plugin?: { name?: string; config?: unknown };
  [key: string]: unknown;
}

export interface AnalysisArg {
  name?: string;
  value?: string;
  valueFrom?: Record<string, unknown>;
}

export interface RolloutAnalysis {
  templates?: { templateName?: string; clusterScope?: boolean }[];
  args?: AnalysisArg[];
  [key: string]: unknown;
}

export interface Rollout extends CustomObject {
  spec?: {
    replicas?: number;
    paused?: boolean;
    selector?: { matchLabels?: Record<string, string> };
    workloadRef?: { apiVersion?: string; kind?: string; name?: string; scaleDown?: string };
    template?: Record<string, unknown>;
    strategy?: {
      canary?: {
        canaryService?: string;
        stableService?: string;
        steps?: RolloutStep[];
        analysis?: RolloutAnalysis;
        trafficRouting?: { plugins?: Record<string, unknown>; [key: string]: unknown };
        [key: string]: unknown;
      };
      blueGreen?: {
        activeService?: string;
        previewService?: string;
        autoPromotionEnabled?: boolean;
        prePromotionAnalysis?: RolloutAnalysis;
        postPromotionAnalysis?: RolloutAnalysis;
        [key: string]: unknown;
      };
    };
    [key: string]: unknown;
  };
  status?: {
    phase?: string;
    message?: string;
    observedGeneration?: string | number;
    currentPodHash?: string;
    stableRS?: string;
    currentStepIndex?: number;
    currentStepHash?: string;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    abort?: boolean;
    abortedAt?: string;
    controllerPause?: boolean;
    pauseConditions?: { reason?: string; startTime?: string }[];
    conditions?: Condition[];
    canary?: {
      stableRS?: string;
      weights?: { canary?: { weight?: number; podTemplateHash?: string }; stable?: { weight?: number } };
      currentStepAnalysisRunStatus?: { name?: string; status?: string; message?: string };
      currentBackgroundAnalysisRunStatus?: { name?: string; status?: string; message?: string };
    };
    blueGreen?: {
      activeSelector?: string;
      previewSelector?: string;
      prePromotionAnalysisRunStatus?: { name?: string; status?: string; message?: string };
      postPromotionAnalysisRunStatus?: { name?: string; status?: string; message?: string };
    };
    workloadObservedGeneration?: string;
    [key: string]: unknown;
  };
}
