/** Which expr library a controller version links (go.mod at v1.7.2, v1.8.4, v1.9.1, v1.10.0-rc1). */
import { describe, expect, it } from 'vitest';
import { dialectFor, EXPR_V1_15_5, EXPR_V1_17_7 } from '../../src/expr/index.js';

describe('dialectFor', () => {
  it.each([
    ['v1.7.2', EXPR_V1_15_5],
    ['v1.8.4', EXPR_V1_15_5],
    ['v1.9.1', EXPR_V1_15_5],
    ['1.9.0', EXPR_V1_15_5],
    ['v1.10.0-rc1', EXPR_V1_17_7],
    ['v1.10.2', EXPR_V1_17_7],
    ['v2.0.0', EXPR_V1_17_7],
    ['v1.6.6', EXPR_V1_15_5],
  ])('%s links %s', (version, dialect) => {
    expect(dialectFor(version)).toBe(dialect);
  });

  it('answers as the newest release (v1.9.1) when the version is unknown', () => {
    for (const unknown of [undefined, 'latest', 'sha256:0123abcd']) expect(dialectFor(unknown)).toBe(EXPR_V1_15_5);
  });
});
