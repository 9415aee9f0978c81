/**
 * The /health document's schema (schemaVersion 1), around the entry schema the engine's results
 * share (src/engine/result-schema.ts). External tools and later issues rely on this shape; tests
 * validate every document the daemon serves against it.
 */
import { z } from 'zod';
import { healthEntrySchema, incidentSchema, statusSchema } from '../engine/result-schema.js';
import { MAX_WIDTH, MIN_WIDTH } from './text-view.js';

export { type HealthEntry, healthEntrySchema, type Incident } from '../engine/result-schema.js';

export const healthSchema = z.strictObject({
  schemaVersion: z.literal(1),
  status: statusSchema,
  checkedAt: z.iso.datetime().nullable(),
  cycle: z.strictObject({ durationMs: z.number().nonnegative(), apiRequests: z.number().int().nonnegative() }).nullable(),
  /** Sorted by status (fail, unknown, warn, recovering), then by size. */
  incidents: z.array(incidentSchema),
  checks: z.array(healthEntrySchema),
  /** Kinds listed every cycle because rollout-doctor may not watch them (present only then). */
  watchFallback: z.array(z.strictObject({ kind: z.string(), reason: z.string() })).optional(),
});

/** The /health document. */
export type HealthBody = z.infer<typeof healthSchema>;

/** `?verbose=1`: the text view lists every result (ok and muted too). */
const flag = z.enum(['1', 'true', '0', 'false']).transform((v) => v === '1' || v === 'true');

export const healthQuerySchema = z.strictObject({
  check: z.string().min(1).optional(),
  target: z.string().min(1).optional(),
  format: z.enum(['json', 'text']).optional(),
  /** Text view: every result on its own row. */
  verbose: flag.optional(),
  /** Text view: terminal columns (rounded down to a multiple of 10); default 100. */
  width: z.coerce.number().int().min(MIN_WIDTH).max(MAX_WIDTH).optional(),
});

/**
 * JSON Schema of the document, for consumers in other languages. Every object allows additional
 * properties: fields may be added within schemaVersion 1, and a consumer ignores the ones it does not
 * know (docs/health.md#compatibility).
 */
export function healthJsonSchema(): unknown {
  return z.toJSONSchema(healthSchema, {
    override: ({ jsonSchema }) => {
      if (jsonSchema.additionalProperties === false) jsonSchema.additionalProperties = true;
    },
  });
}
