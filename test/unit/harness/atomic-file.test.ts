import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../common/atomic-file.js';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-atomic-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the file whole, owner-only, in a folder it makes, and leaves no temp file behind', async () => {
    const file = join(dir, 'state', 'enrolment.json');
    await writeFileAtomic(file, '{"deviceId":"jx-ruijin-01"}');
    await writeFileAtomic(file, '{"deviceId":"jx-ruijin-02"}\n');
    expect(readFileSync(file, 'utf8')).toBe('{"deviceId":"jx-ruijin-02"}\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(dir, 'state'))).toEqual(['enrolment.json']);
  });

  it('does not let a temp file left by a crash pass its mode on to a file that holds a token', async () => {
    const file = join(dir, 'seed.json');
    writeFileSync(`${file}.tmp-${process.pid}`, 'half a seed', { mode: 0o644 });
    await writeFileAtomic(file, '{"token":"cbx_enrol_0123456789abcdef"}');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe('{"token":"cbx_enrol_0123456789abcdef"}\n');
  });
});
