import { describe, expect, it } from 'vitest';
import {
  CentresCsvError,
  groupByCentre,
  parseCentresCsv,
} from '../../../provisioning/flash-helper/centres-csv.js';
import { labelSheetText, labelsFor } from '../../../provisioning/flash-helper/label-sheet.js';

function problems(text: string): string[] {
  try {
    parseCentresCsv(text);
  } catch (error) {
    if (error instanceof CentresCsvError) return error.lines;
    throw error;
  }
  return [];
}

describe('parseCentresCsv', () => {
  it('reads an Excel "CSV UTF-8" export: BOM, CRLF, quoted commas and quotes, any column order', () => {
    const text =
      '\uFEFFdevice_id,display_name,centre_id,centre_name\r\njx-a-01,"甲, ""一号""",jx-a,甲县\r\n\r\njx-b-01,乙,jx-b,\r\n';
    expect(parseCentresCsv(text)).toEqual([
      { deviceId: 'jx-a-01', displayName: '甲, "一号"', centreId: 'jx-a', centreName: '甲县' },
      { deviceId: 'jx-b-01', displayName: '乙', centreId: 'jx-b' },
    ]);
  });

  it('names every problem with its line', () => {
    expect(problems('centre_id,device_id,name\n')).toEqual([
      'line 1: unknown column "name" (expected centre_id, device_id, display_name, centre_name)',
      'line 1: missing column "display_name"',
    ]);
    expect(problems('centre_id,device_id,display_name\njx-a,jx-a-01,"多行\n名字"\njx-a,JX,名\n')).toEqual([
      'line 4: deviceId: expected lower-case letters, digits and dashes, e.g. "jx-ruijin-01"',
    ]);
    expect(problems('centre_id,device_id,display_name\n')).toEqual(['no boxes listed below the header']);
    expect(problems('centre_id,device_id,display_name\njx-a,jx-a-01,\uFFFD\n')[0]).toContain('not UTF-8');
  });

  it('groups boxes by centre in the order centres first appear', () => {
    const rows = parseCentresCsv(
      'centre_id,device_id,display_name\njx-b,jx-b-01,B1\njx-a,jx-a-01,A1\njx-b,jx-b-02,B2\n',
    );
    expect([...groupByCentre(rows)].map(([centre, boxes]) => [centre, boxes.map((b) => b.deviceId)])).toEqual(
      [
        ['jx-b', ['jx-b-01', 'jx-b-02']],
        ['jx-a', ['jx-a-01']],
      ],
    );
  });
});

describe('labelSheetText', () => {
  it('lines up columns with Chinese names, which take two terminal columns per character', () => {
    const rows = parseCentresCsv(
      'centre_id,device_id,display_name,centre_name\njx-a,jx-a-01,瑞金,瑞金市\njx-b,jx-b-10,x,\n',
    );
    const text = labelSheetText(labelsFor(rows, new Map([['jx-a-01', '2026-12-01T00:00:00Z']])));
    const lines = text.trimEnd().split('\n');
    expect(lines[2]).toBe('jx-a-01  瑞金市 (jx-a)  瑞金              2026-12-01T00:00:00Z');
    expect(lines[3]).toBe('jx-b-10  jx-b           x');
  });
});
