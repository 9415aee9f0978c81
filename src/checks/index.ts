/**
 * Every check, listed explicitly (prom-client's defaultMetrics.js pattern): no side-effect imports,
 * no global registry. The order here is the order of the catalogue in the README.
 */
import type { Check } from '../engine/types.js';
import { controllerPodsCheck } from './controller-pods.js';
import { endpointCheck } from './endpoint.js';
// imports:controller
// imports:rollout-a
// imports:rollout-b

export const ALL_CHECKS: readonly Check[] = [
  controllerPodsCheck,
  // checks:controller
  endpointCheck,
  // checks:rollout-a
  // checks:rollout-b
];
