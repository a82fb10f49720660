import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO, run } from './packaging-helpers.js';

const SCRIPT = join(REPO, 'device', 'systemd', 'import-enrolment-seed');
const SEED = JSON.stringify({
  fleetUrl: 'https://fleet.example.cn',
  token: 'tok-1234567890',
  deviceId: 'jx-ruijin-01',
});

/** The first-boot seed import (classbox-seed-import.service) against a temporary boot partition and state dir. */
describe('import-enrolment-seed', () => {
  let dir: string;
  let boot: string;
  let state: string;
  let env: Record<string, string>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-seed-import-'));
    boot = join(dir, 'boot', 'firmware');
    state = join(dir, 'var', 'lib', 'classbox');
    mkdirSync(boot, { recursive: true });
    const owner = `${process.getuid!()}:${process.getgid!()}`;
    env = { CLASSBOX_BOOT_DIR: boot, CLASSBOX_STATE_DIR: state, CLASSBOX_SEED_OWNER: owner };
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves the seed into the state directory, private, and deletes it from the boot partition', () => {
    writeFileSync(join(boot, 'classbox-enrol.json'), SEED);
    writeFileSync(join(boot, 'config.txt'), 'dtparam=audio=on\n');
    const result = run(SCRIPT, [], env);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const copy = join(state, 'enrolment', 'classbox-enrol.json');
    expect(readFileSync(copy, 'utf8')).toBe(SEED);
    expect(statSync(copy).mode & 0o777).toBe(0o600);
    expect(statSync(join(state, 'enrolment')).mode & 0o777).toBe(0o750);
    expect(existsSync(join(boot, 'classbox-enrol.json'))).toBe(false);
    expect(existsSync(join(boot, 'config.txt'))).toBe(true);
    expect(result.stdout).toContain('Imported enrolment seed');
  });

  it('does nothing when there is no seed, and a reflashed seed replaces the old copy', () => {
    const none = run(SCRIPT, [], env);
    expect(none.status).toBe(0);
    expect(existsSync(join(state, 'enrolment'))).toBe(false);

    writeFileSync(join(boot, 'classbox-enrol.json'), SEED);
    expect(run(SCRIPT, [], env).status).toBe(0);
    const newer = SEED.replace('jx-ruijin-01', 'jx-ruijin-02');
    writeFileSync(join(boot, 'classbox-enrol.json'), newer);
    expect(run(SCRIPT, [], env).status).toBe(0);
    expect(readFileSync(join(state, 'enrolment', 'classbox-enrol.json'), 'utf8')).toBe(newer);
  });

  it('refuses an empty or oversized seed and leaves the card alone', () => {
    writeFileSync(join(boot, 'classbox-enrol.json'), '');
    const empty = run(SCRIPT, [], env);
    expect(empty.status).toBe(1);
    expect(empty.stderr).toContain('has 0 bytes');
    writeFileSync(join(boot, 'classbox-enrol.json'), 'x'.repeat(70_000));
    expect(run(SCRIPT, [], env).status).toBe(1);
    expect(existsSync(join(boot, 'classbox-enrol.json'))).toBe(true);
    expect(existsSync(join(state, 'enrolment', 'classbox-enrol.json'))).toBe(false);
  });
});
