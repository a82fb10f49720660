import { describe, expect, it } from 'vitest';
import type { VitalsBeat, VitalsBucket } from '../../../provisioning/domain/vitals-buckets.js';
import { VitalsHistoryWriter } from '../../../provisioning/repositories/vitals-history.repository.js';
import { FleetClock, type FleetOptions } from '../../../provisioning/services/fleet-options.js';
import { VitalsHistoryBuffer } from '../../../provisioning/services/vitals-history-buffer.service.js';
import { strictFake } from '../../helpers/strict-fake.js';

class FixedClock extends FleetClock {
  constructor(public at: string) {
    super();
  }
  now(): Date {
    return new Date(this.at);
  }
}

const beat = (deviceId: string, seenAt: string, extra: Partial<VitalsBeat> = {}): VitalsBeat => ({
  deviceId,
  centreId: 'jx-ruijin',
  seenAt,
  live: false,
  audioOnly: false,
  updateFailed: false,
  ...extra,
});

function buffer(history = true) {
  const writes: VitalsBucket[][] = [];
  const writer = strictFake<VitalsHistoryWriter>('VitalsHistoryWriter', {
    addMinutes: (buckets) => {
      writes.push([...buckets]);
      return Promise.resolve();
    },
  });
  const clock = new FixedClock('2026-11-30T10:00:30.000Z');
  const options = strictFake<FleetOptions>('FleetOptions', { history });
  return { writes, clock, sut: new VitalsHistoryBuffer(writer, clock, options) };
}

describe('vitals history buffer', () => {
  it('writes a minute of a box once, with all its heartbeats, after the minute has ended', async () => {
    const { writes, clock, sut } = buffer();
    // Three batches of the group commit, in the same minute: no write yet.
    sut.add([beat('a', '2026-11-30T10:00:05.000Z', { rttMs: 40 }), beat('b', '2026-11-30T10:00:06.000Z')]);
    sut.add([beat('a', '2026-11-30T10:00:35.000Z', { rttMs: 60, live: true })]);
    sut.add([beat('a', '2026-11-30T10:01:02.000Z')]);
    await sut.flush('ended');
    expect(writes).toEqual([]);

    clock.at = '2026-11-30T10:01:10.000Z';
    await sut.flush('ended');
    expect(writes).toHaveLength(1);
    expect(writes[0]!.map((b) => [b.deviceId, b.at, b.beats])).toEqual([
      ['a', '2026-11-30T10:00:00.000Z', 2],
      ['b', '2026-11-30T10:00:00.000Z', 1],
    ]);
    expect(writes[0]![0]).toMatchObject({ rttSum: 100, rttN: 2, liveMinutes: 1 });

    // The open minute is written when asked for everything (before a read, on shutdown), and only once.
    await sut.onApplicationShutdown();
    expect(writes[1]!.map((b) => [b.deviceId, b.at, b.beats])).toEqual([
      ['a', '2026-11-30T10:01:00.000Z', 1],
    ]);
    await sut.flush();
    expect(writes).toHaveLength(2);
  });

  it('keeps nothing when the history is off', async () => {
    const { writes, sut } = buffer(false);
    sut.add([beat('a', '2026-11-30T10:00:05.000Z')]);
    await sut.flush();
    expect(writes).toEqual([]);
  });

  it("loses only the failed write's minutes, logged, and keeps writing the next", async () => {
    const written: string[] = [];
    let fail = true;
    const writer = strictFake<VitalsHistoryWriter>('VitalsHistoryWriter', {
      addMinutes: (buckets) => {
        if (fail) {
          fail = false;
          return Promise.reject(new Error('disk I/O error'));
        }
        written.push(...buckets.map((b) => b.deviceId));
        return Promise.resolve();
      },
    });
    const options = strictFake<FleetOptions>('FleetOptions', { history: true });
    const sut = new VitalsHistoryBuffer(writer, new FixedClock('2026-11-30T10:05:00.000Z'), options);
    sut.add([beat('a', '2026-11-30T10:00:05.000Z')]);
    await expect(sut.flush()).resolves.toBeUndefined();
    sut.add([beat('b', '2026-11-30T10:00:05.000Z')]);
    await sut.flush();
    expect(written).toEqual(['b']);
  });
});
