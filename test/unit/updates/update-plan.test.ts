import { describe, expect, it } from 'vitest';
import {
  compareReleaseVersions,
  releaseVersion,
  type ReleaseManifest,
} from '../../../common/release-manifest.js';
import {
  checkManifestForBox,
  compareDotted,
  downgradeRefusal,
  releasesToPrune,
  spaceNeeded,
  trialVerdict,
  updateBlockedBy,
} from '../../../device/domain/update-plan.js';
import { parseRange } from '../../../common/http-range.js';
import { inShare } from '../../../provisioning/services/releases.service.js';

const manifest: ReleaseManifest = {
  format: 1,
  name: 'classbox',
  version: '1.4.0',
  arch: 'arm64',
  nodeAbi: 137,
  minOsVersion: '12',
  payload: {
    file: 'classbox-1.4.0-arm64.tar.gz',
    sha256: 'a'.repeat(64),
    size: 50_000_000,
    unpackedSize: 150_000_000,
  },
  builtAt: '2026-11-29T10:00:00.000Z',
};

describe('the update plan', () => {
  it('takes a release built for this box', () => {
    expect(checkManifestForBox(manifest, { arch: 'arm64', nodeAbi: 137, osVersion: '13' })).toEqual([]);
  });

  it('names every mismatch: architecture, Node ABI, OS', () => {
    const refusals = checkManifestForBox(manifest, { arch: 'x64', nodeAbi: 115, osVersion: '11' });
    expect(refusals.map((r) => r.code)).toEqual(['E-UPDATE-ARCH', 'E-UPDATE-NODE-ABI', 'E-UPDATE-OS']);
    expect(refusals[0]!.message).toBe('the release is built for arm64, this box is x64');
    expect(
      checkManifestForBox(manifest, { arch: 'arm64', nodeAbi: 137, osVersion: undefined })[0]!.code,
    ).toBe('E-UPDATE-OS');
  });

  it('compares dotted versions by number', () => {
    expect(compareDotted('12.10', '12.9')).toBe(1);
    expect(compareDotted('12', '12.0')).toBe(0);
    expect(compareDotted('11.9', '12')).toBe(-1);
    expect(['1.10.0', '1.9.0', '1.10.0-pilot.1', '0.9.9'].sort(compareReleaseVersions)).toEqual([
      '0.9.9',
      '1.9.0',
      '1.10.0-pilot.1',
      '1.10.0',
    ]);
  });

  it('orders release versions by semver (issue 13: pilot.10 after pilot.9, rc-1 before rc-2)', () => {
    expect(compareReleaseVersions('1.0.0-pilot.10', '1.0.0-pilot.9')).toBe(1);
    expect(compareReleaseVersions('1.0.0-rc-1', '1.0.0-rc-2')).toBe(-1);
    expect(releaseVersion.safeParse('01.0.0').success).toBe(false);
    expect(releaseVersion.safeParse('1.0.0-pilot..1').success).toBe(false);
  });

  it('refuses a release older than the highest version run, unless it is a signed rollback', () => {
    expect(downgradeRefusal({ version: '1.0.0' }, ['2.0.0', undefined])?.code).toBe('E-UPDATE-DOWNGRADE');
    expect(downgradeRefusal({ version: '1.0.0-pilot.9' }, ['1.0.0-pilot.10'])?.code).toBe(
      'E-UPDATE-DOWNGRADE',
    );
    expect(downgradeRefusal({ version: '1.0.0', allowRollback: true }, ['2.0.0'])).toBeUndefined();
    expect(downgradeRefusal({ version: '2.0.0' }, ['2.0.0', '1.0.0'])).toBeUndefined();
    expect(downgradeRefusal({ version: '2.0.1' }, [undefined, null])).toBeUndefined();
  });

  it('counts what is left to download, the unpacked tree and the margin', () => {
    expect(spaceNeeded(manifest, 20_000_000, 1_000)).toBe(30_000_000 + 150_000_000 + 1_000);
  });

  it('rolls back a trial that crashed too often or outlived its deadline', () => {
    const trial = { version: '1.4.0', previous: '1.3.0', deadline: 10_000, starts: 3 };
    expect(trialVerdict(trial, 9_000, 3)).toEqual({ kind: 'continue' });
    expect(trialVerdict({ ...trial, starts: 4 }, 9_000, 3)).toMatchObject({
      kind: 'rollback',
      code: 'E-UPDATE-CRASH-LOOP',
    });
    expect(trialVerdict(trial, 10_001, 3)).toMatchObject({ kind: 'rollback', code: 'E-UPDATE-UNHEALTHY' });
  });

  it('never updates during a class or inside the guard before a timetabled one', () => {
    const at = (iso: string) => Date.parse(iso);
    const nextClass = { startsAt: '2026-11-30T02:00:00.000Z', endsAt: '2026-11-30T03:30:00.000Z' };
    const base = { nextClass, guardMs: 20 * 60_000 };
    expect(updateBlockedBy({ ...base, sessionState: 'live', nowMs: at('2026-11-29T12:00:00Z') })).toBe(
      'a class is live',
    );
    expect(
      updateBlockedBy({ ...base, sessionState: 'reconnecting', nowMs: at('2026-11-29T12:00:00Z') }),
    ).toBe('a class is reconnecting');
    expect(
      updateBlockedBy({ ...base, sessionState: 'idle', nowMs: at('2026-11-30T01:30:00Z') }),
    ).toBeUndefined();
    expect(updateBlockedBy({ ...base, sessionState: 'idle', nowMs: at('2026-11-30T01:45:00Z') })).toMatch(
      /timetabled class starts at 2026-11-30T02:00/,
    );
    expect(updateBlockedBy({ ...base, sessionState: 'error', nowMs: at('2026-11-30T03:00:00Z') })).toMatch(
      /timetabled/,
    );
    expect(
      updateBlockedBy({ ...base, sessionState: 'idle', nowMs: at('2026-11-30T03:30:00Z') }),
    ).toBeUndefined();
  });

  it('keeps the running release and the one before it', () => {
    expect(
      releasesToPrune(['1.0.0', '1.1.0', '1.2.0', '1.3.0'], { current: '1.3.0', previous: '1.2.0' }),
    ).toEqual(['1.0.0', '1.1.0']);
  });
});

describe('the fleet side of a rollout', () => {
  it('raises a staged share only ever by adding boxes', () => {
    const boxes = Array.from({ length: 400 }, (_, i) => `jx-box-${i}`);
    const at = (percent: number) => new Set(boxes.filter((id) => inShare(id, { version: '1.4.0', percent })));
    const ten = at(10);
    const fifty = at(50);
    expect(ten.size).toBeGreaterThan(10);
    expect(ten.size).toBeLessThan(80);
    for (const id of ten) expect(fifty.has(id)).toBe(true);
    expect(at(100).size).toBe(400);
  });

  it('reads byte ranges the way a resuming box asks', () => {
    expect(parseRange(undefined, 100)).toBeUndefined();
    expect(parseRange('bytes=40-', 100)).toEqual([40, 99]);
    expect(parseRange('bytes=0-9', 100)).toEqual([0, 9]);
    expect(parseRange('bytes=-10', 100)).toEqual([90, 99]);
    expect(parseRange('bytes=90-500', 100)).toEqual([90, 99]);
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('items=1-2', 100)).toBeUndefined();
  });
});
