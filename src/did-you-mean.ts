/** "did you mean" hints for names a user typed: config keys, check ids, scenario names, resources. */

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The allowed name closest to `name`, when one is close enough to be a typo of it. */
export function closestName(name: string, allowed: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of allowed) {
    const distance = editDistance(candidate.toLowerCase(), name.toLowerCase());
    if (distance > Math.max(2, Math.floor(candidate.length / 3))) continue;
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  return best?.name;
}

/** `what` followed by a "did you mean" hint, or the list of what is allowed (`listName: a, b`). */
export function unknownNameMessage(what: string, name: string, allowed: readonly string[], listName = 'allowed'): string {
  const close = closestName(name, allowed);
  if (close !== undefined) return `${what} (did you mean "${close}"?)`;
  return allowed.length > 0 ? `${what} (${listName}: ${allowed.join(', ')})` : what;
}
