import type { BoxRow } from './centres-csv.js';

export interface Label {
  readonly deviceId: string;
  readonly centre: string;
  readonly displayName: string;
  readonly expiresAt: string;
}

export function labelsFor(rows: BoxRow[], expiresAt: Map<string, string>): Label[] {
  return rows.map((row) => ({
    deviceId: row.deviceId,
    centre: row.centreName ? `${row.centreName} (${row.centreId})` : row.centreId,
    displayName: row.displayName,
    expiresAt: expiresAt.get(row.deviceId) ?? '',
  }));
}

/** Plain text for the terminal: one box per line, the id first so it can be read off a label. */
export function labelSheetText(labels: Label[]): string {
  const header = ['box id', 'centre', 'name in the room', 'enrol before'];
  const rows = labels.map((l) => [l.deviceId, l.centre, l.displayName, l.expiresAt]);
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i]!))));
  const format = (cells: string[]) =>
    cells
      .map((c, i) => c + ' '.repeat(widths[i]! - width(c)))
      .join('  ')
      .trimEnd();
  return [format(header), format(widths.map((w) => '-'.repeat(w))), ...rows.map(format)].join('\n') + '\n';
}

/** A printable page of stick-on labels (A4, 3 per row) for the boxes and their cards. */
export function labelSheetHtml(labels: Label[]): string {
  const cells = labels
    .map(
      (l) =>
        `<div class="label"><div class="id">${escapeHtml(l.deviceId)}</div><div>${escapeHtml(l.centre)}</div>` +
        `<div>${escapeHtml(l.displayName)}</div><div class="small">enrol before ${escapeHtml(l.expiresAt)}</div></div>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>classbox labels</title>
<style>
@page { size: A4; margin: 10mm; }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; display: grid; grid-template-columns: repeat(3, 1fr); gap: 4mm; }
.label { border: 1px dashed #888; padding: 3mm; break-inside: avoid; }
.id { font: bold 14pt monospace; }
.small { font-size: 8pt; color: #444; }
</style></head><body>
${cells}
</body></html>
`;
}

/** Display width: CJK characters take two columns in a terminal. */
function width(text: string): number {
  let w = 0;
  for (const ch of text)
    w +=
      /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(
        ch,
      )
        ? 2
        : 1;
  return w;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
