import type { Figure } from '../figure.js';

/** The figures as a Markdown table: the same text goes to the terminal and into the README. */
export function formatTable(figures: readonly Figure[]): string {
  const header = [
    'Figure',
    'Runs',
    'Median',
    'p95',
    'Anchor',
    'Anchor median',
    'Anchor p95',
    'Ratio',
    'Target',
    'Met',
  ];
  const rows = figures.map((f) => [
    f.name,
    String(f.runs),
    value(f.median, f.unit),
    value(f.p95, f.unit),
    f.anchor,
    value(f.anchorMedian, f.unit),
    value(f.anchorP95, f.unit),
    Number.isFinite(f.ratio) ? f.ratio.toFixed(2) : '—',
    f.target,
    f.runs === 0 ? 'not measured' : f.met === null ? '—' : f.met ? 'yes' : 'NO',
  ]);
  const line = (cells: string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function formatNotes(figures: readonly Figure[]): string {
  return figures
    .filter((f) => f.notes)
    .map((f) => `- ${f.name}: ${f.notes}`)
    .join('\n');
}

function value(v: number, unit: Figure['unit']): string {
  if (!Number.isFinite(v)) return '—';
  const digits = unit === 'cores' ? 2 : unit === 'per s' || Math.abs(v) >= 100 ? 0 : 1;
  return `${v.toFixed(digits)} ${unit}`;
}
