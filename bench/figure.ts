/**
 * One measured figure beside its anchor, measured in the same run on the same machine.
 * Every bench module (`bench/*.bench.ts`) exports `measure(ctx)` returning its figures.
 */
export interface Figure {
  /** What was measured, e.g. "press → teacher's first frame". */
  readonly name: string;
  readonly unit: 'ms' | 's' | 'MB' | 'per s' | 'cores' | 'lines' | '%';
  readonly runs: number;
  readonly median: number;
  readonly p95: number;
  /** What it is compared with, e.g. "janus.js cold join → first frame". */
  readonly anchor: string;
  readonly anchorMedian: number;
  readonly anchorP95: number;
  /** median / anchorMedian. */
  readonly ratio: number;
  /** The target in words, e.g. "ratio ≤ 0.8" or "≤ 1.5 s"; "—" when the figure is only reported. */
  readonly target: string;
  /** Whether the target is met by the median and by the p95; null when there is no target. */
  readonly met: boolean | null;
  /** Anything a reader needs to trust the figure (sample sizes, caps, what was left out). */
  readonly notes?: string;
}

export interface BenchContext {
  /** A short run for CI: fewer repetitions, same code paths. */
  readonly smoke: boolean;
  readonly log: (line: string) => void;
}

export type BenchModule = { measure(ctx: BenchContext): Promise<Figure[]> };

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

export function p95(values: readonly number[]): number {
  return quantile(values, 0.95);
}

/** The slow tail of a figure where more is better (a rate): its 5th percentile. */
export function p5(values: readonly number[]): number {
  return quantile(values, 0.05);
}

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
