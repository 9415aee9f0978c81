/**
 * One shape for a result on the wire: the entry of the /health document (schemaVersion 1), as a zod
 * schema from which the engine's stored result and the HTTP layer's document both take their type,
 * and the incidents the results form (src/incidents/correlate.ts). External tools rely on it; tests
 * validate every document the daemon serves against it. The schemas are strict, so a test notices a
 * field rollout-doctor did not mean to send; the JSON Schema published for consumers allows
 * additional properties (src/http/health-schema.ts, docs/health.md#compatibility).
 */
import { z } from 'zod';
import { STATUSES } from './status.js';

export const statusSchema = z.enum(STATUSES);

export const healthEntrySchema = z.strictObject({
  check: z.string().min(1),
  target: z.string().min(1),
  status: statusSchema,
  summary: z.string(),
  remediation: z.array(z.string()),
  details: z.record(z.string(), z.unknown()),
  since: z.iso.datetime(),
  /** When the result was evaluated, present when that was after the cycle (a re-evaluation after a change). */
  checkedAt: z.iso.datetime().optional(),
  durationMs: z.number().nonnegative(),
  rollout: z.string().regex(/^[^/]+\/[^/]+$/).optional(),
  muted: z.literal(true).optional(),
  muteReason: z.string().optional(),
  /** The id of the incident a non-ok, unmuted result belongs to (as its root or as an effect). */
  incident: z.string().optional(),
});

/** One result in the /health document. */
export type HealthEntry = z.infer<typeof healthEntrySchema>;

/** An incident's status: its worst result's, or `recovering` while its root is ok and its effects catch up. */
export const INCIDENT_STATUSES = ['fail', 'unknown', 'warn', 'recovering'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

const resultRefSchema = z.strictObject({ check: z.string().min(1), target: z.string().min(1) });

/** One result named by check and target. */
export type ResultRef = z.infer<typeof resultRefSchema>;

export const incidentSchema = z.strictObject({
  /** Stable: a hash of the root's check and target. */
  id: z.string().regex(/^[0-9a-f]{12}$/),
  status: z.enum(INCIDENT_STATUSES),
  root: resultRefSchema,
  /** cause -> effect -> effect, in one line. */
  summary: z.string(),
  effects: z.array(resultRefSchema),
  /** The root's `since`. */
  since: z.iso.datetime(),
  /** The root's remediation. */
  remediation: z.array(z.string()),
});

/** One incident of the /health document. */
export type Incident = z.infer<typeof incidentSchema>;
