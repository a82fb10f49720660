import { median, p5, p95, type Figure } from '../figure.js';

export interface Sampled {
  readonly name: string;
  readonly unit: Figure['unit'];
  readonly samples: readonly number[];
  readonly anchor: string;
  readonly anchorSamples: readonly number[];
  /** The target in words; leave it out (and `meets`) for a figure that is only reported. */
  readonly target?: string;
  /**
   * The target in words, as code, for one value and its ratio to the anchor's. It is applied to the
   * median (median / anchor median) and to the p95 (p95 / anchor p95): a target is met only by both,
   * so a figure that is fast in the middle but often slow does not pass.
   */
  readonly meets?: (f: { value: number; ratio: number }) => boolean;
  /** A rate: more is better, so its slow tail is the 5th percentile, judged in place of the p95. */
  readonly higherIsBetter?: boolean;
  readonly notes?: string;
}

/** The target column of a figure that is only reported. */
export const NO_TARGET = '—';

/** A figure from raw samples: median, p95 and ratio computed here, never typed in by hand. */
export function figureOf(s: Sampled): Figure {
  const m = median(s.samples);
  const am = median(s.anchorSamples);
  const ratio = m / am;
  const high = p95(s.samples);
  const anchorHigh = p95(s.anchorSamples);
  const valid = s.samples.length > 0 && Number.isFinite(m);
  const tail = s.higherIsBetter ? p5 : p95;
  const worst = tail(s.samples);
  const met =
    s.meets === undefined
      ? null
      : valid &&
        s.meets({ value: m, ratio }) &&
        s.meets({ value: worst, ratio: worst / tail(s.anchorSamples) });
  return {
    name: s.name,
    unit: s.unit,
    runs: s.samples.length,
    median: round(m),
    p95: round(high),
    anchor: s.anchor,
    anchorMedian: round(am),
    anchorP95: round(anchorHigh),
    ratio: round(ratio, 3),
    target: s.target ?? NO_TARGET,
    met,
    ...(s.notes ? { notes: s.notes } : {}),
  };
}

/**
 * A figure that could not be measured: it appears in the table as such, never as a pass. A figure that
 * has no target (`NO_TARGET`) stays without a verdict (`met: null`); one with a target is not met.
 */
export function notMeasured(name: string, anchor: string, target: string, why: string): Figure {
  return {
    name,
    unit: 'ms',
    runs: 0,
    median: Number.NaN,
    p95: Number.NaN,
    anchor,
    anchorMedian: Number.NaN,
    anchorP95: Number.NaN,
    ratio: Number.NaN,
    target,
    met: target === NO_TARGET ? null : false,
    notes: `not measured: ${why}`,
  };
}

function round(value: number, digits = 1): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
