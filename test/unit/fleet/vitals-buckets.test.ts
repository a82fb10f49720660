import { describe, expect, it } from 'vitest';
import { foldBeats, sessionsOf, type VitalsBeat } from '../../../provisioning/domain/vitals-buckets.js';

const beat = (deviceId: string, seenAt: string, extra: Partial<VitalsBeat> = {}): VitalsBeat => ({
  deviceId,
  centreId: 'jx-ruijin',
  seenAt,
  live: false,
  audioOnly: false,
  updateFailed: false,
  ...extra,
});

describe('vitals buckets', () => {
  it('folds a batch into one increment per device and minute, sorted for lock order', () => {
    const buckets = foldBeats([
      beat('b', '2026-11-30T10:00:40.000Z', { temperatureC: 50, live: true }),
      beat('a', '2026-11-30T10:01:05.000Z', { rttMs: 40 }),
      beat('b', '2026-11-30T10:00:10.000Z', { temperatureC: 60, uplinkKbps: 300, audioOnly: true }),
      beat('a', '2026-11-30T10:00:59.999Z'),
    ]);
    expect(buckets.map((b) => [b.deviceId, b.at, b.beats])).toEqual([
      ['a', '2026-11-30T10:00:00.000Z', 1],
      ['a', '2026-11-30T10:01:00.000Z', 1],
      ['b', '2026-11-30T10:00:00.000Z', 2],
    ]);
    expect(buckets[2]).toMatchObject({
      minutes: 1,
      liveMinutes: 1,
      audioOnlyMinutes: 1,
      tempSum: 110,
      tempN: 2,
      tempMax: 60,
      uplinkSum: 300,
      uplinkN: 1,
      rttN: 0,
      lossN: 0,
    });
    // A figure the box did not send is absent from the averages, not a zero in them.
    expect(buckets[1]).toMatchObject({ rttSum: 40, rttN: 1, tempN: 0, tempMax: null });
  });

  it('finds class sessions as runs of buckets with class time', () => {
    const minute = (m: number, live: number) => ({
      at: new Date(Date.UTC(2026, 10, 30, 10, m)).toISOString(),
      liveMinutes: live,
    });
    expect(
      sessionsOf(
        [minute(0, 1), minute(1, 1), minute(2, 0), minute(3, 1), minute(5, 1), minute(6, 1)],
        60_000,
      ),
    ).toEqual([
      { start: '2026-11-30T10:00:00.000Z', end: '2026-11-30T10:02:00.000Z' },
      { start: '2026-11-30T10:03:00.000Z', end: '2026-11-30T10:04:00.000Z' },
      // A missing minute (no heartbeat) splits a session too.
      { start: '2026-11-30T10:05:00.000Z', end: '2026-11-30T10:07:00.000Z' },
    ]);
  });
});
