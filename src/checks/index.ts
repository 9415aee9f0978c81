/**
 * Every check, listed explicitly (prom-client's defaultMetrics.js pattern): no side-effect imports,
 * no global registry. The order here is the order of the catalogue in the README.
 */
import type { Check } from '../engine/types.js';
import { controllerPodsCheck } from './controller-pods.js';
import { kubeApiCheck } from './kube-api.js';
import { endpointCheck } from './endpoint.js';
import { argocdSyncCheck } from './argocd-sync.js';
import { controllerPluginsCheck } from './controller-plugins.js';
import { controllerRbacCheck } from './controller-rbac.js';
import { rolloutTrafficCheck } from './rollout-traffic.js';
import { selfRbacCheck } from './self-rbac.js';
import { rolloutAnalysisCheck } from './rollout-analysis.js';
import { rolloutReferencesCheck } from './rollout-references.js';
import { rolloutStatusCheck } from './rollout-status.js';
import { analysisPreflightCheck } from './analysis-preflight.js';
import { rolloutPodsCheck } from './rollout-pods.js';
import { rolloutServicesCheck } from './rollout-services.js';

export const ALL_CHECKS: readonly Check[] = [
  kubeApiCheck,
  controllerPodsCheck,
  controllerPluginsCheck,
  controllerRbacCheck,
  selfRbacCheck,
  rolloutTrafficCheck,
  argocdSyncCheck,
  rolloutStatusCheck,
  rolloutAnalysisCheck,
  rolloutReferencesCheck,
  rolloutServicesCheck,
  rolloutPodsCheck,
  analysisPreflightCheck,
  endpointCheck,
];
