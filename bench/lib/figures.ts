import { median, p95, type Figure } from '../figure.js';

export interface Sampled {
  readonly name: string;
  readonly unit: Figure['unit'];
  readonly samples: readonly number[];
  readonly anchor: string;
  readonly anchorSamples: readonly number[];
  readonly target: string;
  /** Decides `met` from the figure's own numbers; the rule is the target in words, as code. */
  readonly meets: (f: { median: number; p95: number; ratio: number }) => boolean;
  readonly notes?: string;
}

/** A figure from raw samples: median, p95 and ratio computed here, never typed in by hand. */
export function figureOf(s: Sampled): Figure {
  const m = median(s.samples);
  const am = median(s.anchorSamples);
  const ratio = m / am;
  const valid = s.samples.length > 0 && Number.isFinite(m);
  return {
    name: s.name,
    unit: s.unit,
    runs: s.samples.length,
    median: round(m),
    p95: round(p95(s.samples)),
    anchor: s.anchor,
    anchorMedian: round(am),
    anchorP95: round(p95(s.anchorSamples)),
    ratio: round(ratio, 3),
    target: s.target,
    met: valid && s.meets({ median: m, p95: p95(s.samples), ratio }),
    ...(s.notes ? { notes: s.notes } : {}),
  };
}

/** A figure that could not be measured: it appears in the table as such, never as a pass. */
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
    met: false,
    notes: `not measured: ${why}`,
  };
}

function round(value: number, digits = 1): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
