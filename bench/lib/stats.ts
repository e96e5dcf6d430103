/**
 * Latency samples and their summary. Every sample is kept (runs are bounded, at most a few
 * hundred thousand numbers) so percentiles are exact rather than bucketed.
 */
export interface Summary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export const EMPTY_SUMMARY: Summary = { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };

export class Samples {
  private values: number[] = [];

  add(value: number): void {
    this.values.push(value);
  }

  get count(): number {
    return this.values.length;
  }

  summary(): Summary {
    return summarize(this.values);
  }
}

/** Nearest-rank percentiles over a copy of the values (the input is left as it is). */
export const summarize = (input: readonly number[]): Summary => {
  if (input.length === 0) return EMPTY_SUMMARY;
  const sorted = Float64Array.from(input).sort();
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    mean: round(sum / sorted.length),
    p50: round(rank(50)),
    p90: round(rank(90)),
    p99: round(rank(99)),
    max: round(sorted[sorted.length - 1] as number),
  };
};

/** Three decimals: milliseconds to the microsecond, which is all a loopback timer can say. */
export const round = (n: number, digits = 3): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A wall-clock time in ms, with sub-ms precision, comparable across worker threads. */
export const nowMs = (): number => performance.timeOrigin + performance.now();
