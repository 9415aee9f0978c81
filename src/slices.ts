/**
 * Long synchronous work cut into slices of about SLICE_MS, with a whole turn of the event loop (its
 * timers, its I/O: /health and /metrics requests) between two slices. One budget for the process:
 * the checks' evaluation of their targets, the store update and the renders all draw on it.
 *
 * Why one budget: with a slicer per loop, the 13 checks evaluating their targets at once each took
 * their own 10 ms, and their turns, all set with setImmediate in the same phase of the loop, ran
 * back to back: event-loop blocks of 150-200 ms at 1,000 Rollouts (`npm run bench -- --only cycle
 * --profile`, the gaps of a 2 ms heartbeat; docs/performance.md). Here the work that has used up the
 * slice waits in line, and one waiter resumes per turn of the loop, in the order they came.
 *
 * Neutral ground: checks, engine, metrics and http import it; it imports nothing of ours.
 */
/**
 * Longest stretch of sliced work between two turns of the event loop. A turn's gap is its slice
 * plus whatever the garbage collector or the scheduler adds to it (a scavenge, a marking step, a core
 * taken by another process): at 1,000 Rollouts 5 ms instead of 10 took the p99 of the loop's delay
 * from 42-54 ms to 32-34 ms, and the longest block from 71-136 ms to 66-73 ms, for no longer cycle
 * (`npm run bench -- --only cycle`, two runs each, alternating).
 */
export const SLICE_MS = 5;

interface Slice {
  startedMs: number;
}

/** The slice the running macrotask draws on: opened by the first caller in it, closed when it ends. */
let slice: Slice | undefined;
/** Work that has used up its slice, in the order it came; the first resumes at the next turn. */
const waiting: (() => void)[] = [];
let isResumeScheduled = false;

function currentSlice(): Slice {
  if (!slice) {
    const opened: Slice = { startedMs: performance.now() };
    slice = opened;
    // An immediate runs once the running macrotask (and its microtasks) has ended: so did the slice.
    setImmediate(() => {
      if (slice === opened) slice = undefined;
    });
  }
  return slice;
}

function resumeNext(): void {
  isResumeScheduled = false;
  slice = undefined;
  waiting.shift()?.();
  scheduleResume();
}

function scheduleResume(): void {
  if (isResumeScheduled || waiting.length === 0) return;
  isResumeScheduled = true;
  setImmediate(resumeNext);
}

/**
 * Call between two pieces of synchronous work: undefined while the slice lasts (go on), else a
 * promise that resolves on a later turn of the event loop, when this caller's turn in line comes.
 */
export function turnIfDue(): Promise<void> | undefined {
  if (performance.now() - currentSlice().startedMs < SLICE_MS) return undefined;
  return nextSlice();
}

/**
 * Waits in line for a fresh slice, whatever is left of this one: before a piece of work that cannot
 * be cut (it then starts with the whole budget, not after another's slice).
 */
export function nextSlice(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    scheduleResume();
  });
}

/**
 * Runs a generator of synchronous steps (each yield: a point where it may pause) in slices; resolves
 * to what it returns.
 */
export async function runInSlices<T>(steps: Iterator<unknown, T>): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await turnIfDue();
  }
}

/** Runs a generator of steps to its end at once (for callers that cannot wait: tests, the CLI). */
export function runAtOnce<T>(steps: Iterator<unknown, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
