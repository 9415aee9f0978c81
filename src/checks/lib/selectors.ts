/** Kubernetes LabelSelector matching (matchLabels and matchExpressions), as the API server applies it. */
import type { LabelSelector } from '../../kube/types.js';

export function matchesSelector(labels: Record<string, string> | undefined, selector: LabelSelector | undefined): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  const matchLabels = selector.matchLabels ?? {};
  const expressions = selector.matchExpressions ?? [];
  // An empty selector selects nothing here: a Deployment always has one, and "everything" is never what a check means.
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return false;
  for (const [key, value] of Object.entries(matchLabels)) if (have[key] !== value) return false;
  for (const expression of expressions) {
    const present = Object.hasOwn(have, expression.key);
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
        if (!present || !values.includes(have[expression.key]!)) return false;
        break;
      case 'NotIn':
        if (present && values.includes(have[expression.key]!)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** `a=b,c=d` form of equality labels, for remediation commands (`-l`). */
export function selectorString(selector: LabelSelector | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const expression of selector?.matchExpressions ?? []) {
    const values = (expression.values ?? []).join(',');
    if (expression.operator === 'In') parts.push(`${expression.key} in (${values})`);
    else if (expression.operator === 'NotIn') parts.push(`${expression.key} notin (${values})`);
    else if (expression.operator === 'Exists') parts.push(expression.key);
    else if (expression.operator === 'DoesNotExist') parts.push(`!${expression.key}`);
  }
  return parts.join(',');
}

/** Parses `a=b,c in (x,y)` into a LabelSelector (config-given selectors). */
export function parseSelector(text: string): LabelSelector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: NonNullable<LabelSelector['matchExpressions']> = [];
  for (const part of text.split(/,(?![^(]*\))/).map((p) => p.trim()).filter(Boolean)) {
    const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (set) {
      matchExpressions.push({ key: set[1]!, operator: set[2] === 'in' ? 'In' : 'NotIn', values: set[3]!.split(',').map((v) => v.trim()) });
      continue;
    }
    const equality = /^([^=!\s]+)\s*(==|=)\s*(\S*)$/.exec(part);
    if (equality) {
      matchLabels[equality[1]!] = equality[3]!;
      continue;
    }
    const inequality = /^([^=!\s]+)\s*!=\s*(\S*)$/.exec(part);
    if (inequality) {
      matchExpressions.push({ key: inequality[1]!, operator: 'NotIn', values: [inequality[2]!] });
      continue;
    }
    if (part.startsWith('!')) matchExpressions.push({ key: part.slice(1), operator: 'DoesNotExist' });
    else matchExpressions.push({ key: part, operator: 'Exists' });
  }
  return { matchLabels, matchExpressions };
}
