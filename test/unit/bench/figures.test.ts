import { describe, expect, it } from 'vitest';
import { median, p95 } from '../../../bench/figure.js';
import { figureOf, notMeasured } from '../../../bench/lib/figures.js';
import { formatTable } from '../../../bench/lib/table.js';

const base = {
  name: 'press → first frame',
  unit: 'ms' as const,
  anchor: 'janus.js cold join',
  target: 'ratio ≤ 0.8',
  meets: (f: { ratio: number }) => f.ratio <= 0.8,
};

describe('bench figures', () => {
  it('computes median, p95 and ratio from the samples and judges the target on them', () => {
    const fast = figureOf({ ...base, samples: [300, 320, 340], anchorSamples: [500, 520, 540] });
    expect(fast).toMatchObject({ runs: 3, median: 320, anchorMedian: 520, met: true });
    expect(fast.ratio).toBeCloseTo(320 / 520, 3);
    expect(fast.p95).toBeCloseTo(p95([300, 320, 340]), 1);

    const slow = figureOf({ ...base, samples: [500, 510], anchorSamples: [500, 520] });
    expect(slow.met).toBe(false);
  });

  it('never marks a figure without samples as met', () => {
    const empty = figureOf({ ...base, samples: [], anchorSamples: [500], meets: () => true });
    expect(empty.met).toBe(false);
    expect(Number.isNaN(median([]))).toBe(true);
  });

  it('shows a missing module as not measured in the table, not as a pass or a miss', () => {
    const table = formatTable([
      notMeasured('update verify + unpack + switch', '—', '≤ 5 s for 50 MB', 'not written yet'),
      figureOf({ ...base, samples: [900], anchorSamples: [500] }),
    ]);
    const [, , missing, missed] = table.split('\n');
    expect(missing).toContain('| not measured |');
    expect(missing).not.toContain('| yes |');
    expect(missed).toMatch(/\| NO \|$/);
  });
});
