/**
 * The probes of one full cycle (analysis provider queries), kept so that a re-evaluation between
 * cycles answers the same queries from them instead of sending them again. A full cycle sends every
 * probe it makes; a replay sends only a probe the cycle did not make (and keeps its answer too).
 */
import type { Prober, ProbeRequest, ProbeResult } from './http.js';

function keyOf(probe: ProbeRequest): string {
  const { signal: _signal, ...request } = probe;
  return JSON.stringify(request);
}

export class ProbeMemo implements Prober {
  constructor(
    private readonly prober: Prober,
    private readonly isReplay = false,
    private readonly answers = new Map<string, Promise<ProbeResult>>(),
  ) {}

  request(probe: ProbeRequest): Promise<ProbeResult> {
    const key = keyOf(probe);
    const kept = this.isReplay ? this.answers.get(key) : undefined;
    if (kept) return kept;
    const answer = this.prober.request(probe);
    this.answers.set(key, answer);
    return answer;
  }

  /** A prober that answers from what this one kept. */
  replay(): ProbeMemo {
    return new ProbeMemo(this.prober, true, this.answers);
  }
}
