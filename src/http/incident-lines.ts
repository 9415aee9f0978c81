/**
 * The incident lines of the text view, between its count line and its table: what is wrong, one
 * line per incident, cause -> effect. Plain lines; the text view wraps them to its width.
 *
 *   1 incident: plugin argoproj-labs/cilium cannot be downloaded (Not Found) -> controller crash-looping -> 2 Rollouts not progressing
 *
 *   2 incidents:
 *     FAIL  pods of Rollout shop/web not starting (ImagePullBackOff) -> Rollout shop/web Degraded (ProgressDeadlineExceeded)
 *     RECOVERING  recovered: controller crash-looping; still catching up: Rollout litellm/litellm not progressing
 */
import type { HealthBody } from './health-schema.js';

export function incidentLines(body: HealthBody): string[] {
  const { incidents } = body;
  if (incidents.length === 0) return [];
  if (incidents.length === 1) return [`1 incident: ${incidents[0]!.summary}`];
  return [`${incidents.length} incidents:`, ...incidents.map((incident) => `  ${incident.status.toUpperCase()}  ${incident.summary}`)];
}
