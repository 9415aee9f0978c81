/**
 * Object types the checks read. Built-in kinds are client-node's models (re-exported so that
 * src/kube stays the only importer of the library; their timestamps are Date objects); custom
 * resources arrive as plain JSON (timestamps are strings) and are typed loosely here, with the
 * fields the checks use.
 */
export type {
  V1ConfigMap as ConfigMap,
  V1Deployment as Deployment,
  V1EndpointSlice as EndpointSlice,
  V1Endpoints as Endpoints,
  CoreV1Event as Event,
  V1Pod as Pod,
  V1ContainerStatus as ContainerStatus,
  V1ReplicaSet as ReplicaSet,
  V1Service as Service,
  V1ObjectMeta as ObjectMeta,
  V1LabelSelector as LabelSelector,
} from '@kubernetes/client-node';

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
