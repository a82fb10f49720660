import { describe, expect, it } from 'vitest';
import { median, p95 } from '../../../bench/figure.js';
import { figureOf, NO_TARGET, notMeasured } from '../../../bench/lib/figures.js';
import { formatTable } from '../../../bench/lib/table.js';

const base = {
  name: 'press → first frame',
  unit: 'ms' as const,
  anchor: 'janus.js cold join',
  target: 'ratio ≤ 0.8',
  meets: (f: { ratio: number }) => f.ratio <= 0.8,
};

const cell = (table: string, row: number, column: string): string => {
  const lines = table.split('\n').map((l) => l.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, '').trim()));
  return lines[row + 2]![lines[0]!.indexOf(column)]!;
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

  it('shows a figure without a target as "—", never as met', () => {
    const reported = figureOf({
      name: 'kiosk Chromium idle PSS',
      unit: 'MB',
      samples: [380, 383, 384],
      anchor: 'bare Chromium',
      anchorSamples: [317, 318, 318],
    });
    expect(reported.met).toBeNull();
    expect(reported.target).toBe('—');
    const table = formatTable([reported]);
    expect(cell(table, 0, 'Met')).toBe('—');
    expect(cell(table, 0, 'Target')).toBe('—');
  });

  it('judges a target on the p95 as well as the median', () => {
    // The median beats the anchor well, but one run in five is far slower: not met.
    const spiky = figureOf({
      ...base,
      samples: [300, 310, 320, 330, 900],
      anchorSamples: [500, 500, 500, 500, 500],
    });
    expect(spiky.ratio).toBeLessThan(0.8);
    expect(spiky.met).toBe(false);
    const steady = figureOf({
      ...base,
      samples: [300, 310, 320, 330, 340],
      anchorSamples: [500, 500, 500, 500, 500],
    });
    expect(steady.met).toBe(true);
    const latency = { ...base, target: '≤ 20 ms', meets: (f: { value: number }) => f.value <= 20 };
    expect(figureOf({ ...latency, samples: [15, 16, 40], anchorSamples: [2, 2, 2] }).met).toBe(false);
  });

  it('judges a rate on its slow tail (5th percentile) as well as the median', () => {
    const rate = {
      ...base,
      unit: 'per s' as const,
      target: '≥ 5,000 per s',
      meets: (f: { value: number }) => f.value >= 5000,
      higherIsBetter: true,
    };
    expect(figureOf({ ...rate, samples: [6000, 6100, 2000], anchorSamples: [9000, 9000, 9000] }).met).toBe(
      false,
    );
    expect(figureOf({ ...rate, samples: [6000, 6100, 5900], anchorSamples: [9000, 9000, 9000] }).met).toBe(
      true,
    );
  });

  it('gives a figure that is only reported no verdict, measured or not', () => {
    const missing = notMeasured('power on → READY=1', 'process-level box', NO_TARGET, 'no VM image');
    expect(missing.met).toBeNull();
    expect(notMeasured('press', 'janus.js', 'ratio ≤ 0.8', 'failed').met).toBe(false);
    const table = formatTable([
      missing,
      figureOf({
        name: 'power on → enrolled',
        unit: 'ms',
        samples: [9000],
        anchor: 'box',
        anchorSamples: [800],
      }),
    ]);
    expect(cell(table, 0, 'Met')).toBe('not measured');
    expect(cell(table, 1, 'Met')).toBe('—');
    expect(cell(table, 1, 'Target')).toBe('—');
  });
});
