import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Cut, CutRequest } from '../../../common/catchup-protocol.js';
import { Signal } from '../../../common/signal.js';
import { deviceConfigSchema } from '../../../device/config/device-config.schema.js';
import type { SessionSnapshot, SessionState } from '../../../device/domain/class-session.machine.js';
import {
  CatchupError,
  type CatchupFleetPort,
  type CatchupRecord,
  type CatchupStorePort,
} from '../../../device/ports/catchup.port.js';
import type { FleetSession } from '../../../device/ports/fleet.port.js';
import type { KioskPagePort } from '../../../device/ports/kiosk-page.port.js';
import { CatchupService } from '../../../device/services/catchup.service.js';
import type { ClassSessionService } from '../../../device/services/class-session.service.js';
import { ConfigService } from '../../../device/services/config.service.js';
import type { FleetEnrolmentService } from '../../../device/services/fleet-enrolment.service.js';
import type { FleetSyncService } from '../../../device/services/fleet-sync.service.js';
import { FakeClock, flush } from '../../helpers/fake-clock.js';
import { strictFake } from '../../helpers/strict-fake.js';

const T0 = Date.parse('2026-11-30T08:00:00Z');
const MB = 1024 * 1024;
const SESSION: FleetSession = {
  url: 'https://fleet',
  deviceId: 'jx-ruijin-01',
  privateKeyPem: 'K',
  clockOffsetMs: 0,
};

function world(saved?: CatchupRecord) {
  const clock = new FakeClock(T0);
  const config = new ConfigService(
    deviceConfigSchema.parse({
      device: { id: 'jx-ruijin-01', displayName: '瑞金' },
      fleet: { url: 'https://fleet', enrolmentFile: '/boot/seed.json' },
      hardware: { mode: 'sim' },
      catchup: { cacheMB: 10, freeMarginMB: 1 },
    }),
  );
  const session = {
    state: { state: 'idle' } as SessionSnapshot,
    changed: new Signal<SessionSnapshot>('s'),
    currentRoom: 2222,
  };
  const stats = new Signal<{ type: 'stats'; framesDecoded: number; videoKbps: number; audioKbps: number }>(
    'stats',
  );
  const disk = { record: saved, free: 100 * MB, saves: 0, files: new Map<string, number>() };
  const asked: CutRequest[] = [];
  const downloads: { signal: AbortSignal }[] = [];
  const fleet = {
    cut: (r: CutRequest): Cut => ({
      cutId:
        r.fromMs === T0 + 10_000 ? 'a'.repeat(32) : createHash('md5').update(String(r.fromMs)).digest('hex'),
      path: '/api/v1/devices/jx-ruijin-01/catchup/cuts/x',
      size: 2 * MB,
      sha256: 'b'.repeat(64),
      fromMs: r.fromMs,
      toMs: r.toMs,
    }),
    refuse: undefined as CatchupError | undefined,
    /** Refused only for the stretch starting there. */
    refuseFrom: new Map<number, CatchupError>(),
    hang: false,
  };
  const store = strictFake<CatchupStorePort>('CatchupStorePort', {
    read: async () => disk.record,
    save: async (r) => {
      disk.record = r;
      disk.saves++;
    },
    removeStray: async () => undefined,
    partFile: (id) => `/state/catchup/videos/${id}.part`,
    freeBytes: async () => disk.free,
    commit: async (id) => {
      disk.files.set(`${id}.webm`, 2 * MB);
      disk.files.delete(`${id}.part`);
      return `${id}.webm`;
    },
    remove: async (name) => void disk.files.delete(name),
  });
  const port = strictFake<CatchupFleetPort>('CatchupFleetPort', {
    requestCut: async (_s, r) => {
      asked.push(r);
      if (fleet.refuse) throw fleet.refuse;
      const refused = fleet.refuseFrom.get(r.fromMs);
      if (refused) throw refused;
      return fleet.cut(r);
    },
    download: async (_s, cut, _file, options) => {
      downloads.push({ signal: options.signal });
      disk.files.set(`${cut.cutId}.part`, 1);
      if (fleet.hang)
        await new Promise<void>((_, reject) =>
          options.signal.addEventListener('abort', () =>
            reject(new CatchupError('E-CATCHUP-DOWNLOAD', 'stopped')),
          ),
        );
    },
  });
  const service = new CatchupService(
    config,
    strictFake<ClassSessionService>(
      'ClassSessionService',
      session as unknown as Partial<ClassSessionService>,
    ),
    clock,
    store,
    port,
    strictFake<FleetEnrolmentService>('FleetEnrolmentService', { signingSession: () => SESSION }),
    strictFake<FleetSyncService>('FleetSyncService', { reportCatchupWith: () => undefined }),
    strictFake<KioskPagePort>('KioskPagePort', { stats: stats as unknown as KioskPagePort['stats'] }),
  );
  const to = async (state: SessionState) => {
    session.state = { state };
    session.changed.emit(session.state);
    await flush();
  };
  const frames = async (n: number) => {
    stats.emit({ type: 'stats', framesDecoded: n, videoKbps: 500, audioKbps: 32 });
    await flush();
  };
  return { service, clock, disk, asked, downloads, fleet, to, frames };
}

/** A class with the teacher's picture stopping for 30 s in its middle. */
/** The service started, a class with a gap in it, and the class over: the box back on its idle screen. */
async function classEndedAfterGap(w: ReturnType<typeof world>): Promise<void> {
  w.service.onApplicationBootstrap();
  await w.service.ready();
  await classWithGap(w);
  await w.to('leaving');
  await w.to('idle');
  await flush();
}

async function classWithGap(w: ReturnType<typeof world>): Promise<void> {
  await w.to('joining');
  await w.to('live');
  for (let i = 1; i <= 5; i++) {
    await w.clock.advance(2000);
    await w.frames(i * 50);
  }
  // The link goes: no new frames; the session notices 12 s later.
  for (let i = 0; i < 6; i++) {
    await w.clock.advance(2000);
    await w.frames(250);
  }
  await w.to('reconnecting');
  await w.clock.advance(18_000);
  await w.to('live');
  await w.clock.advance(2000);
  await w.frames(30);
  await w.clock.advance(10_000);
  await w.frames(300);
}

describe('catch-up on the box (issue 21)', () => {
  it('dates the missed stretch from the last frame seen, keeps it, and fetches it only once the class is over', async () => {
    const w = world();
    w.service.onApplicationBootstrap();
    await w.service.ready();
    await classWithGap(w);
    const c = w.service.report().classes[0]!;
    expect(c.missed).toEqual([{ fromMs: T0 + 10_000, toMs: T0 + 42_000, reason: 'stalled' }]);
    expect(w.disk.record?.log.current?.missed).toHaveLength(1);
    // In class: nothing is fetched, even when asked.
    await w.service.fetchMissed();
    expect(w.asked).toEqual([]);
    await w.to('leaving');
    await w.to('idle');
    await flush();
    expect(w.asked).toEqual([{ room: 2222, fromMs: T0 + 10_000, toMs: T0 + 42_000 }]);
    expect(w.service.offer()).toMatchObject({
      missedMs: 32_000,
      replays: [{ name: `${'a'.repeat(32)}.webm` }],
    });
  });

  it('closes a class the daemon stopped in when it starts again', async () => {
    const first = world();
    first.service.onApplicationBootstrap();
    await first.service.ready();
    await first.to('joining');
    await first.to('live');
    await first.to('reconnecting');
    const second = world(first.disk.record);
    second.disk.free = 0;
    await second.clock.advance(60_000);
    second.service.onApplicationBootstrap();
    await second.service.ready();
    expect(second.disk.record?.log.current).toBeUndefined();
    expect(second.disk.record?.log.ended[0]?.missed).toEqual([
      { fromMs: T0, toMs: T0 + 60_000, reason: 'reconnecting' },
    ]);
  });

  it('stops a fetch at once when a class starts (the class has the link), and resumes it after', async () => {
    const w = world();
    w.fleet.hang = true;
    await classEndedAfterGap(w);
    expect(w.downloads).toHaveLength(1);
    await w.to('joining');
    expect(w.downloads[0]!.signal.aborted).toBe(true);
    // What arrived is kept for the resume: the part is not deleted for a broken link.
    expect(w.disk.files.has(`${'a'.repeat(32)}.part`)).toBe(true);
    expect(w.service.report().lastError?.code).toBe('E-CATCHUP-DOWNLOAD');
  });

  it('says the card is full and downloads nothing when the video would not leave the margin', async () => {
    const w = world();
    w.disk.free = 2 * MB;
    await classEndedAfterGap(w);
    expect(w.downloads).toEqual([]);
    expect(w.service.report().lastError).toMatchObject({ code: 'E-CATCHUP-SPACE' });
    expect(w.service.report().lastError?.detail).toMatch(/needs 2\.0 MB and the card has 2\.0 MB free/);
    expect(w.service.offer()).toBeUndefined();
  });

  it('does not ask again for a stretch the fleet has no recording of', async () => {
    const w = world();
    w.fleet.refuse = new CatchupError('E-CATCHUP-NO-RECORDING', 'no recording of room 2222 holds it');
    await classEndedAfterGap(w);
    expect(w.asked).toHaveLength(1);
    expect(w.service.report().lastError?.code).toBe('E-CATCHUP-NO-RECORDING');
    await w.service.fetchMissed();
    expect(w.asked).toHaveLength(1);
  });
});

describe('minutes caught up (issue 21)', () => {
  it('counts what was shown of each part, a part replayed twice once, and never more than the part', async () => {
    const w = world();
    await classEndedAfterGap(w);
    const name = w.service.offer()!.replays[0]!.name;
    // A hold after 20 of the 32 s.
    w.service.markWatched(name, 20_000);
    expect(w.service.report().classes[0]!.caughtUpMs).toBe(20_000);
    // Replayed from the start and held again earlier: nothing more was caught up.
    w.service.markWatched(name, 12_000);
    expect(w.service.report().classes[0]!.caughtUpMs).toBe(20_000);
    expect(w.service.offer()).toBeDefined();
    // Played to its end (the page's position may pass the stretch by a frame).
    w.service.markWatched(name, 32_400);
    expect(w.service.report().classes[0]!.caughtUpMs).toBe(32_000);
    expect(w.service.offer()).toBeUndefined();
    // Kept across restarts.
    await flush();
    expect(w.disk.record?.watchedMs).toEqual({ [name]: 32_000 });
  });
});

describe('a cut the fleet refuses for good (issue 21)', () => {
  it('gives that stretch up at once, says so once, and still fetches the other stretches', async () => {
    const w = world();
    w.service.onApplicationBootstrap();
    await w.service.ready();
    await classWithGap(w);
    // A second gap later in the class: the link goes again for 20 s.
    await w.to('reconnecting');
    await w.clock.advance(20_000);
    await w.to('live');
    await w.clock.advance(2000);
    await w.frames(40);
    const stretches = w.service.report().classes[0]!.missed;
    expect(stretches).toHaveLength(2);
    // The fleet answers 400 to the first.
    w.fleet.refuseFrom.set(
      stretches[0]!.fromMs,
      new CatchupError('E-CATCHUP-REFUSED', 'the fleet server refused the cut: 400 fromMs is in the future'),
    );
    await w.to('leaving');
    await w.to('idle');
    await flush();
    expect(w.asked.map((r) => r.fromMs)).toEqual([stretches[0]!.fromMs, stretches[1]!.fromMs]);
    expect(w.service.offer()?.replays.map((r) => r.fromMs)).toEqual([stretches[1]!.fromMs]);
    expect(w.service.report().lastError).toEqual({
      code: 'E-CATCHUP-REFUSED',
      detail: 'the fleet server refused the cut: 400 fromMs is in the future',
    });
    // Not asked again: neither by a retry timer nor after the next class.
    await w.clock.advance(120_000);
    await w.service.fetchMissed();
    expect(w.asked).toHaveLength(2);
    expect(w.disk.record?.unavailable).toEqual({
      [`${w.service.report().classes[0]!.classId}/${stretches[0]!.fromMs}`]: 'E-CATCHUP-REFUSED',
    });
  });

  it('keeps trying a stretch the fleet could not cut for now (a 5xx, the link), every 15 s', async () => {
    const w = world();
    w.fleet.refuse = new CatchupError('E-CATCHUP-DOWNLOAD', 'the fleet server refused the cut: 503');
    await classEndedAfterGap(w);
    expect(w.asked).toHaveLength(1);
    await w.clock.advance(15_000);
    expect(w.asked).toHaveLength(2);
    w.fleet.refuse = new CatchupError('E-CATCHUP-CUT-SLOW', 'ffmpeg took more than 600 s and was stopped');
    await w.clock.advance(15_000);
    expect(w.asked).toHaveLength(3);
    expect(w.service.report().lastError?.code).toBe('E-CATCHUP-CUT-SLOW');
    w.fleet.refuse = undefined;
    await w.clock.advance(15_000);
    expect(w.asked).toHaveLength(4);
    expect(w.service.offer()?.replays).toHaveLength(1);
    expect(w.service.report().lastError).toBeUndefined();
  });
});
