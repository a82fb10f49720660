import { z } from 'zod';
import { describeIssues } from '../../common/zod-issues.js';
import { centreIdSchema, deviceIdSchema } from './enrolment-seed.schema.js';
import { ClassboxError } from '../../common/errors.js';

/** One box to flash: a row of the centres CSV that IT fills in. */
export const boxRowSchema = z.strictObject({
  centreId: centreIdSchema,
  deviceId: deviceIdSchema,
  displayName: z.string().trim().min(1, 'expected the name shown in the room, e.g. "瑞金教学点"').max(64),
  centreName: z.string().trim().max(64).optional(),
});
export type BoxRow = z.output<typeof boxRowSchema>;

export class CentresCsvError extends ClassboxError<'E-FLASH-CSV'> {
  constructor(readonly lines: string[]) {
    super('E-FLASH-CSV', `Invalid centres CSV: ${lines.join('; ')}`);
  }
}

const COLUMNS = {
  centre_id: 'centreId',
  device_id: 'deviceId',
  display_name: 'displayName',
  centre_name: 'centreName',
} as const;
const REQUIRED = ['centre_id', 'device_id', 'display_name'] as const;

/**
 * Parses the CSV IT prepares (UTF-8, header `centre_id,device_id,display_name[,centre_name]`, RFC 4180
 * quoting). Every problem is reported with its line number, all at once.
 */
export function parseCentresCsv(text: string): BoxRow[] {
  if (text.includes('\uFFFD')) {
    throw new CentresCsvError(['the file is not UTF-8 (in Excel or WPS: save as "CSV UTF-8")']);
  }
  const records = splitCsv(text.replace(/^\uFEFF/, ''));
  const header = records.shift();
  if (!header)
    throw new CentresCsvError(['the file is empty; expected a header line centre_id,device_id,display_name']);
  const names = header.cells.map((c) => c.trim().toLowerCase());
  const problems: string[] = [];
  for (const name of names) {
    if (!(name in COLUMNS))
      problems.push(`line 1: unknown column "${name}" (expected ${Object.keys(COLUMNS).join(', ')})`);
  }
  for (const name of REQUIRED) {
    if (!names.includes(name)) problems.push(`line 1: missing column "${name}"`);
  }
  if (problems.length > 0) throw new CentresCsvError(problems);

  const rows: BoxRow[] = [];
  const seen = new Map<string, number>();
  for (const record of records) {
    if (record.cells.every((c) => c.trim() === '')) continue;
    if (record.cells.length !== names.length) {
      problems.push(`line ${record.line}: expected ${names.length} fields, found ${record.cells.length}`);
      continue;
    }
    const raw: Record<string, string> = {};
    names.forEach((name, i) => {
      const value = record.cells[i]!.trim();
      if (value !== '') raw[COLUMNS[name as keyof typeof COLUMNS]] = value;
    });
    const parsed = boxRowSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(...describeIssues(parsed.error).map((issue) => `line ${record.line}: ${issue}`));
      continue;
    }
    const first = seen.get(parsed.data.deviceId);
    if (first !== undefined) {
      problems.push(`line ${record.line}: device_id "${parsed.data.deviceId}" is already on line ${first}`);
      continue;
    }
    seen.set(parsed.data.deviceId, record.line);
    rows.push(parsed.data);
  }
  if (problems.length > 0) throw new CentresCsvError(problems);
  if (rows.length === 0) throw new CentresCsvError(['no boxes listed below the header']);
  return rows;
}

interface CsvRecord {
  line: number;
  cells: string[];
}

function splitCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let startLine = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      records.push({ line: startLine, cells });
      cells = [];
      cell = '';
      line++;
      startLine = line;
    } else {
      cell += ch;
    }
  }
  if (cell !== '' || cells.length > 0) {
    cells.push(cell);
    records.push({ line: startLine, cells });
  }
  return records;
}

/** Rows grouped by centre, in the order the centres first appear. */
export function groupByCentre(rows: BoxRow[]): Map<string, BoxRow[]> {
  const groups = new Map<string, BoxRow[]>();
  for (const row of rows) {
    const group = groups.get(row.centreId) ?? [];
    group.push(row);
    groups.set(row.centreId, group);
  }
  return groups;
}
