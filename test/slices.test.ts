/**
 * src/slices.ts: sliced work shares one budget per turn of the event loop. Several loops working at
 * once (the checks evaluating their targets, the renders) take turns, one slice each, with a turn
 * of the event loop (its timers and I/O) between two slices: never their slices back to back.
 */
import { describe, expect, it } from 'vitest';
import { nextSlice, runInSlices, SLICE_MS, turnIfDue } from '../src/slices.js';

/** Synchronous work of about `ms`. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

/** A loop of `steps` synchronous steps of `stepMs` each, pausing where turnIfDue says. */
async function work(steps: number, stepMs: number, onStep?: () => void): Promise<void> {
  for (let i = 0; i < steps; i++) {
    busy(stepMs);
    onStep?.();
    await turnIfDue();
  }
}

describe('slices', () => {
  it('goes on while the slice lasts, then pauses for a turn of the event loop', async () => {
    await nextSlice();
    expect(turnIfDue()).toBeUndefined();
    busy(SLICE_MS);
    const pause = turnIfDue();
    expect(pause).toBeInstanceOf(Promise);
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    busy(2);
    await pause;
    expect(timerRan).toBe(true);
    expect(turnIfDue()).toBeUndefined();
  });

  it('loops working at once share the budget: each turn of the event loop runs one slice, not one per loop', async () => {
    // A mark at every turn of the event loop (an immediate that sets the next one), and which loop
    // ran each step: eight loops at once, as eight checks evaluating their Rollouts. Loops interleave
    // within a slice (each step ends with an await); the budget is the slice's, not each loop's.
    const events: (number | 'turn')[] = [];
    let isMarking = true;
    const mark = () => {
      events.push('turn');
      if (isMarking) setImmediate(mark);
    };
    await nextSlice();
    setImmediate(mark);
    await Promise.all(Array.from({ length: 8 }, (_, loop) => work(60, 0.5, () => events.push(loop))));
    isMarking = false;
    // Between two marks, one slice of steps (they take at least 0.5 ms each: preemption only makes
    // them fewer), plus at most one step of each loop resuming: with a budget per loop, all eight
    // ran a whole slice each, 160 steps and 80 ms without a turn.
    const turns: number[][] = [[]];
    for (const event of events) {
      if (event === 'turn') turns.push([]);
      else turns.at(-1)!.push(event);
    }
    expect(Math.max(...turns.map((steps) => steps.length))).toBeLessThanOrEqual(SLICE_MS / 0.5 + 8);
    expect(turns.filter((steps) => steps.length > 0).length).toBeGreaterThanOrEqual(8 * 3);
  });

  it('resumes waiting loops in the order they came, so none starves', async () => {
    const order: string[] = [];
    await nextSlice();
    await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        work(30, 1, () => {
          if (order.at(-1) !== name) order.push(name);
        }),
      ),
    );
    // Each loop needs about three slices: they alternate rather than run one after the other.
    expect(order.slice(0, 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('runInSlices runs every step of a generator, in order', async () => {
    const seen: number[] = [];
    function* steps(): Generator<void> {
      for (let i = 0; i < 200; i++) {
        busy(0.2);
        seen.push(i);
        yield;
      }
    }
    await runInSlices(steps());
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });
});
