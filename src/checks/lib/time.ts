/** Timestamps arrive as Date (built-in kinds, deserialized by client-node) or strings (custom resources). */
export function toMillis(value: Date | string | undefined | null): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function toIso(value: Date | string | undefined | null): string | undefined {
  const ms = toMillis(value);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Whole seconds between `from` and `now`, or undefined when `from` is unknown. */
export function secondsSince(from: Date | string | undefined | null, now: Date): number | undefined {
  const ms = toMillis(from);
  return ms === undefined ? undefined : Math.max(0, Math.round((now.getTime() - ms) / 1000));
}
