/** A result's status and its severity order. */
export const STATUSES = ['ok', 'warn', 'fail', 'unknown'] as const;
export type Status = (typeof STATUSES)[number];

/** Severity order used for the overall status: fail > unknown > warn > ok. */
export const STATUS_RANK: Record<Status, number> = { ok: 0, warn: 1, unknown: 2, fail: 3 };
