/**
 * The /health document's schema (schemaVersion 1). External tools and later issues rely on this
 * shape; tests validate every document the daemon serves against it.
 */
import { z } from 'zod';
import { STATUSES } from '../engine/types.js';

const status = z.enum(STATUSES);

export const healthEntrySchema = z.strictObject({
  check: z.string().min(1),
  target: z.string().min(1),
  status,
  summary: z.string(),
  remediation: z.array(z.string()),
  details: z.record(z.string(), z.unknown()),
  since: z.iso.datetime(),
  durationMs: z.number().nonnegative(),
  rollout: z.string().regex(/^[^/]+\/[^/]+$/).optional(),
  muted: z.literal(true).optional(),
  muteReason: z.string().optional(),
});

export const healthSchema = z.strictObject({
  schemaVersion: z.literal(1),
  status,
  checkedAt: z.iso.datetime().nullable(),
  cycle: z.strictObject({ durationMs: z.number().nonnegative(), apiRequests: z.number().int().nonnegative() }).nullable(),
  checks: z.array(healthEntrySchema),
});

export const healthQuerySchema = z.strictObject({
  check: z.string().min(1).optional(),
  target: z.string().min(1).optional(),
  format: z.enum(['json', 'text']).optional(),
});

/** JSON Schema of the document, for consumers in other languages. */
export function healthJsonSchema(): unknown {
  return z.toJSONSchema(healthSchema);
}
