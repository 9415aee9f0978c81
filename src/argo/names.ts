/**
 * The label, annotation and option names Argo Rollouts, Argo CD and Kubernetes write on objects,
 * each defined once here with the upstream file that defines it. Everything that reads or selects
 * by one of them (the snapshot's list selectors, the checks, their remediation) imports it from here.
 */

/**
 * The label the controller adds to a Rollout's ReplicaSets, their pods, the Services it points
 * and the AnalysisRuns of a revision (argo-rollouts v1.8.3 pkg/apis/rollouts/v1alpha1/types.go
 * DefaultRolloutUniqueLabelKey).
 */
export const POD_TEMPLATE_HASH_LABEL = 'rollouts-pod-template-hash';

/** A Rollout's (and its ReplicaSets') revision number (argo-rollouts v1.8.3 utils/annotations/annotations.go RevisionAnnotation). */
export const REVISION_ANNOTATION = 'rollout.argoproj.io/revision';

/** The workloadRef Deployment's generation the Rollout was built from (argo-rollouts v1.8.3 utils/annotations/annotations.go WorkloadGenerationAnnotation). */
export const WORKLOAD_GENERATION_ANNOTATION = 'rollout.argoproj.io/workload-generation';

/** How a Rollout created an AnalysisRun: Step, Background, PrePromotion, PostPromotion (argo-rollouts v1.8.3 pkg/apis/rollouts/v1alpha1/types.go RolloutTypeLabel). */
export const ROLLOUT_TYPE_LABEL = 'rollout-type';

/** The canary step that created an AnalysisRun (argo-rollouts v1.8.3 pkg/apis/rollouts/v1alpha1/types.go RolloutCanaryStepIndexLabel). */
export const STEP_INDEX_LABEL = 'step-index';

/** Argo CD's resource tracking annotation (argo-cd v3.5.1 common/common.go AnnotationKeyAppInstance). */
export const ARGOCD_TRACKING_ANNOTATION = 'argocd.argoproj.io/tracking-id';

/** Argo CD's default tracking label, naming the Application (argo-cd v3.5.1 common/common.go LabelKeyAppInstance). */
export const ARGOCD_INSTANCE_LABEL = 'app.kubernetes.io/instance';

/** The sync option that makes a sync keep ignored differences (argo-cd v3.5.1 controller/sync.go). */
export const ARGOCD_RESPECT_IGNORE_DIFFERENCES = 'RespectIgnoreDifferences=true';

/** The label tying an EndpointSlice to its Service (kubernetes/api v0.32.0 discovery/v1/well_known_labels.go LabelServiceName). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
