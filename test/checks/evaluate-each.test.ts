/**
 * evaluateEach and mapWithConcurrency, the helpers every check evaluates its targets with: results
 * in the items' order, one target's error its own `unknown`, and the event loop served between
 * slices of a long synchronous evaluation (issue 17: /health waited for a whole check at 1,000
 * Rollouts).
 */
import { describe, expect, it } from 'vitest';
import { evaluateEach, mapWithConcurrency, result } from '../../src/checks/lib/results.js';

/** Synchronous work of about `ms`, as a check's evaluation of one Rollout is. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

describe('mapWithConcurrency', () => {
  it('keeps the items order, all at once and with a limit, for synchronous and asynchronous calls', async () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const later = (i: number) => new Promise<number>((resolve) => setTimeout(() => resolve(i * 2), (50 - i) % 7));
    expect(await mapWithConcurrency(items, items.length, async (i) => i * 2)).toEqual(items.map((i) => i * 2));
    expect(await mapWithConcurrency(items, items.length, later)).toEqual(items.map((i) => i * 2));
    expect(await mapWithConcurrency(items, 4, later)).toEqual(items.map((i) => i * 2));
  });

  it('rejects as Promise.all does, and a rejection waiting for its turn is not reported unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const items = Array.from({ length: 40 }, (_, i) => i);
      const call = mapWithConcurrency(items, items.length, async (i) => {
        busy(1);
        if (i === 0) throw new Error('first item failed');
        return i;
      });
      await expect(call).rejects.toThrow('first item failed');
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('lets a timer due meanwhile run before a long synchronous evaluation ends', async () => {
    for (const limit of [Infinity, 3]) {
      const events: string[] = [];
      setTimeout(() => events.push('timer'), 0);
      const items = Array.from({ length: 200 }, (_, i) => i);
      await mapWithConcurrency(items, limit, async (i) => {
        busy(0.5);
        if (i === items.length - 1) events.push('last item');
        return i;
      });
      expect(events, `limit ${limit}`).toEqual(['timer', 'last item']);
    }
  });

  it('starts the first `limit` calls in slices too (a timer due meanwhile runs before the last starts)', async () => {
    const events: string[] = [];
    setTimeout(() => events.push('timer'), 0);
    const items = Array.from({ length: 32 }, (_, i) => i);
    // Each call builds its request synchronously (about 1 ms), then waits for the answer.
    await mapWithConcurrency(items, items.length - 1, async (i) => {
      busy(1);
      events.push(`started ${i}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return i;
    });
    expect(events.indexOf('timer')).toBeGreaterThan(0);
    expect(events.indexOf('timer')).toBeLessThan(events.indexOf('started 30'));
  });
});

describe('evaluateEach', () => {
  it("makes one target's error that target's unknown and leaves the others", async () => {
    const results = await evaluateEach(
      ['a', 'b', 'c'],
      (t) => t,
      (t) => {
        if (t === 'b') throw new Error('b could not be read');
        return result(t, 'ok', `${t} is fine`, {});
      },
    );
    expect(results.map((r) => `${r.target} ${r.status} ${r.summary}`)).toEqual(['a ok a is fine', 'b unknown b could not be read', 'c ok c is fine']);
  });
});
