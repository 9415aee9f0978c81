/**
 * One shape for a result on the wire: the entry of the /health document (schemaVersion 1), as a zod
 * schema from which the engine's stored result and the HTTP layer's document both take their type.
 * External tools rely on it; tests validate every document the daemon serves against it.
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
});

/** One result in the /health document. */
export type HealthEntry = z.infer<typeof healthEntrySchema>;
