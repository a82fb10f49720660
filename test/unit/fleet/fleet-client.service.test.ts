import { beforeEach, describe, expect, it } from 'vitest';
import {
  desiredConfigSchema,
  heartbeatSchema,
  type ActionResult,
  type DesiredConfig,
  type EnrolmentSeed,
  type Heartbeat,
  type HeartbeatResponse,
} from '../../../common/fleet-protocol.js';
import { Signal } from '../../../common/signal.js';
import { UNENROLLED_IDENTITY } from '../../../device/config/config-layers.js';
import { deviceConfigSchema, type DeviceConfig } from '../../../device/config/device-config.schema.js';
import type { SessionSnapshot } from '../../../device/domain/class-session.machine.js';
import type { KioskPagePort } from '../../../device/ports/kiosk-page.port.js';
import {
  FleetError,
  type DeviceKeyPair,
  type EnrolmentState,
  type FleetPort,
  type FleetSession,
  type FleetStatePort,
} from '../../../device/ports/fleet.port.js';
import type { HostPort } from '../../../device/ports/host.port.js';
import type { LogSourcePort } from '../../../device/ports/log-source.port.js';
import type { ClassSessionService } from '../../../device/services/class-session.service.js';
import { ConfigService } from '../../../device/services/config.service.js';
import { FleetEnrolmentService } from '../../../device/services/fleet-enrolment.service.js';
import { FleetSyncService } from '../../../device/services/fleet-sync.service.js';
import { NextClassService } from '../../../device/services/next-class.service.js';
import { RemoteActionsService } from '../../../device/services/remote-actions.service.js';
import type { HealthService } from '../../../device/services/health.service.js';
import type { DeviceHealth } from '../../../device/ports/health.js';
import type { KioskService } from '../../../device/services/kiosk.service.js';
import type { DeviceStatus, StatusService } from '../../../device/services/status.service.js';
import { strictFake } from '../../helpers/strict-fake.js';
import { FakeClock } from '../../helpers/fake-clock.js';

/** Timers that run only when the test says so. */
const SEED_FILE = '/boot/firmware/classbox-enrol.json';
const seed: EnrolmentSeed = {
  fleetUrl: 'https://fleet.example.cn',
  token: 'cbx_enrol_0123456789abcdef',
  deviceId: 'jx-ruijin-01',
  centreId: 'jx-ruijin',
  displayName: '瑞金教学点',
  expiresAt: '2026-12-07T00:00:00.000Z',
};
const room = (n: number): DesiredConfig =>
  desiredConfigSchema.parse({
    device: { displayName: '瑞金教学点', centreName: '瑞金' },
    janus: { url: 'wss://janus.example.cn', room: n },
    timetable: [{ title: '高等数学', weekday: 1, start: '09:00', end: '10:30' }],
  });

const baseConfig = (): DeviceConfig =>
  deviceConfigSchema.parse({
    device: { id: 'jx-ruijin-01', displayName: '瑞金教学点' },
    fleet: { url: 'https://fleet.example.cn', enrolmentFile: SEED_FILE },
    hardware: { mode: 'sim' },
  });

interface World {
  /** The heartbeat rounds, with the three services they use. */
  sync: FleetSyncService;
  enrolment: FleetEnrolmentService;
  nextClass: NextClassService;
  actions: RemoteActionsService;
  config: ConfigService;
  clock: FakeClock;
  reads: { uptimeFails: boolean };
  session: { state: SessionSnapshot; changed: Signal<SessionSnapshot> };
  files: {
    seed?: EnrolmentSeed;
    enrolment?: EnrolmentState;
    desired?: { config: DesiredConfig; etag: string };
    saveFails?: Error;
  };
  server: {
    reachable: boolean;
    desired: { config: DesiredConfig; etag: string };
    enrolRefusal?: FleetError;
    skewUntilOffset?: number;
    actions: { id: string; kind: string }[];
    beats: Heartbeat[];
    sessions: FleetSession[];
    reports: { id: string; result: ActionResult }[];
    /** The optional heartbeat fields the server says it takes (issue 21); none from an older server. */
    accepts?: string[];
  };
  reboots: string[];
  storage: (DeviceHealth | undefined)[];
  kioskRestarts: string[];
  network: DeviceStatus['network'];
  /** What the box's log holds, oldest first. */
  logLines: string[];
}

function world(): World {
  const clock = new FakeClock(Date.parse('2026-11-30T00:30:00Z'));
  const config = new ConfigService(baseConfig());
  const session = {
    state: { state: 'idle' } as SessionSnapshot,
    changed: new Signal<SessionSnapshot>('test.session'),
  };
  const files: World['files'] = { seed };
  const server: World['server'] = {
    reachable: true,
    desired: { config: room(1234), etag: '"a"' },
    actions: [],
    beats: [],
    sessions: [],
    reports: [],
  };
  const reboots: string[] = [];
  const kioskRestarts: string[] = [];
  const storage: (DeviceHealth | undefined)[] = [];
  const network: DeviceStatus['network'] = { audioOnly: false, audioOnlyReason: null, uplinkKbps: null };
  const logLines: string[] = [];
  const unreachable = () => new FleetError('E-FLEET-UNREACHABLE', "can't reach the fleet server");

  const fleet = strictFake<FleetPort>('FleetPort', {
    async enrol(url, request) {
      if (!server.reachable) throw unreachable();
      if (server.enrolRefusal) throw server.enrolRefusal;
      expect(url).toBe(seed.fleetUrl);
      expect(request.token).toBe(seed.token);
      return {
        deviceId: seed.deviceId,
        centreId: seed.centreId,
        displayName: seed.displayName,
        ...server.desired,
      };
    },
    async heartbeat(s, beat): Promise<HeartbeatResponse> {
      if (!server.reachable) throw unreachable();
      server.sessions.push(s);
      // Like the real server, a clock within a small window is accepted (it allows 120 s; a second here).
      if (server.skewUntilOffset !== undefined && Math.abs(s.clockOffsetMs - server.skewUntilOffset) > 1000) {
        throw new FleetError('E-FLEET-REFUSED', 'skew', {
          status: 401,
          serverCode: 'E-CLOCK-SKEW',
          serverTimeMs: Date.now() + server.skewUntilOffset,
        });
      }
      server.beats.push(beat);
      return {
        actions: server.actions,
        configEtag: server.desired.etag,
        serverTime: new Date().toISOString(),
        ...(server.accepts ? { accepts: server.accepts } : {}),
      };
    },
    async fetchConfig(_s, etag) {
      if (!server.reachable) throw unreachable();
      return etag === server.desired.etag ? 'unchanged' : server.desired;
    },
    async reportAction(_s, id, result) {
      server.reports.push({ id, result });
      server.actions = server.actions.filter((a) => a.id !== id);
    },
  });
  const state = strictFake<FleetStatePort>('FleetStatePort', {
    async readSeed(file) {
      expect(file).toBe(SEED_FILE);
      return files.seed;
    },
    async deleteSeed() {
      files.seed = undefined;
    },
    async readEnrolment() {
      return files.enrolment;
    },
    async saveEnrolment(e) {
      files.enrolment = e;
    },
    async ensureKeyPair(): Promise<DeviceKeyPair> {
      return { publicKeyPem: 'PUBLIC', privateKeyPem: 'PRIVATE' };
    },
    async readDesired() {
      return files.desired;
    },
    async saveDesired(d) {
      if (files.saveFails)
        throw new FleetError(
          'E-FLEET-STATE',
          "can't write desired-config.json",
          {},
          { cause: files.saveFails },
        );
      files.desired = d;
    },
  });
  const status = strictFake<StatusService>('StatusService', {
    status: (): DeviceStatus => ({
      state: session.state.state,
      room: null,
      feed: null,
      remoteFeeds: [],
      health: { camera: { status: 'ok' } },
      version: '0.1.0',
      board: 'Raspberry Pi 5 Model B Rev 1.0',
      deviceId: 'jx-ruijin-01',
      displayName: '瑞金教学点',
      errorCode: session.state.errorCode ?? null,
      muted: false,
      leds: { status: 'off', mute: 'off' },
      network: { ...network },
      selfTest: null,
      media: {
        profile: 'pi5',
        outbound: {
          video: { width: 960, height: 540, fps: 29.5, kbps: 870, qualityLimitationReason: 'none' },
        },
        inbound: [{ feed: '42', audio: { lossPct: 0.5, jitterMs: 12, concealedPct: 1.2 } }],
      },
    }),
  });
  const reads = { uptimeFails: false };
  const host = strictFake<HostPort>('HostPort', {
    uptimeSec: async () => {
      if (reads.uptimeFails) throw new Error("can't read /proc/uptime: EACCES");
      return 120;
    },
    temperatureC: async () => 51.2,
    reboot: async () => {
      reboots.push(session.state.state);
    },
  });
  const kiosk = strictFake<KioskService>('KioskService', {
    restart: async (why: string) => {
      kioskRestarts.push(why);
    },
    // The kiosk's screen as JPEG bytes (SOI, then EOI and a marker byte, so it differs from the camera's).
    screenshot: async () => Buffer.from([0xff, 0xd8, 0xff, 0xd9, 0x01]),
  });
  const page = strictFake<KioskPagePort>('KioskPagePort', {
    requestSnapshot: async () => Buffer.from([0xff, 0xd8, 0xff, 0xd9]),
  });
  const classSession = strictFake<ClassSessionService>(
    'ClassSessionService',
    session as unknown as Partial<ClassSessionService>,
  );
  const enrolment = new FleetEnrolmentService(config, clock, fleet, state, status);
  const nextClass = new NextClassService(clock);
  const actions = new RemoteActionsService(
    config,
    classSession,
    status,
    kiosk,
    page,
    host,
    strictFake<LogSourcePort>('LogSourcePort', {
      recentLines: async (max: number) => logLines.slice(Math.max(0, logLines.length - max)),
    }),
    fleet,
    enrolment,
  );
  const sync = new FleetSyncService(
    config,
    classSession,
    status,
    clock,
    fleet,
    state,
    host,
    strictFake<HealthService>('HealthService', { reportWrite: (h) => void storage.push(h) }),
    enrolment,
    nextClass,
    actions,
  );
  return {
    sync,
    enrolment,
    nextClass,
    actions,
    config,
    clock,
    session,
    files,
    server,
    reboots,
    kioskRestarts,
    storage,
    network,
    logLines,
    reads,
  };
}

const setSession = (w: World, state: SessionSnapshot['state']) => {
  w.session.state = { state };
  w.session.changed.emit(w.session.state);
};

describe("the box's fleet client (enrolment, heartbeat and config, timetable, remote actions)", () => {
  let w: World;
  beforeEach(() => {
    w = world();
    w.actions.onApplicationBootstrap();
    w.sync.onApplicationBootstrap();
  });

  it('enrols with the seed, saves who it is, deletes the seed and applies the room', async () => {
    await w.sync.tick();
    expect(w.files.enrolment).toMatchObject({
      deviceId: 'jx-ruijin-01',
      centreId: 'jx-ruijin',
      fleetUrl: seed.fleetUrl,
    });
    expect(w.files.seed).toBeUndefined();
    expect(w.config.current.janus.room).toBe(1234);
    expect(w.files.desired?.etag).toBe('"a"');
    expect(w.server.beats).toHaveLength(1);
    expect(w.server.beats[0]).toMatchObject({
      state: 'idle',
      version: '0.1.0',
      uptimeSec: 120,
      temperatureC: 51.2,
      board: 'Raspberry Pi 5 Model B Rev 1.0',
      media: { profile: 'pi5', outbound: { video: { width: 960, height: 540 } } },
    });
    // The server accepts the media object as the box sends it (issue 16).
    expect(heartbeatSchema.safeParse(w.server.beats[0]).success).toBe(true);
  });

  it('keeps the seed and stays unenrolled when the token is refused', async () => {
    w.server.enrolRefusal = new FleetError('E-FLEET-REFUSED', 'used', {
      status: 401,
      serverCode: 'E-TOKEN-USED',
    });
    await w.sync.tick();
    expect(w.enrolment.isEnrolled()).toBe(false);
    expect(w.files.seed).toBeDefined();
    expect(w.files.enrolment).toBeUndefined();
  });

  it('starts without a seed under the placeholder identity and takes the enrolled one when a seed comes', async () => {
    w.config.replace({ ...baseConfig(), device: UNENROLLED_IDENTITY });
    delete w.files.seed;
    await w.sync.tick();
    expect(w.enrolment.isEnrolled()).toBe(false);
    expect(w.config.current.device.id).toBe('unenrolled');
    w.files.seed = seed;
    await w.sync.tick();
    expect(w.enrolment.isEnrolled()).toBe(true);
    expect(w.config.current.device).toMatchObject({ id: 'jx-ruijin-01', displayName: '瑞金教学点' });
    expect(w.config.current.janus.room).toBe(1234);
  });

  it('waits for the class to end before applying a new room', async () => {
    await w.sync.tick();
    setSession(w, 'live');
    w.server.desired = { config: room(4321), etag: '"b"' };
    await w.sync.tick();
    expect(w.files.desired?.etag).toBe('"b"');
    expect(w.config.current.janus.room).toBe(1234);
    setSession(w, 'leaving');
    expect(w.config.current.janus.room).toBe(1234);
    setSession(w, 'idle');
    expect(w.config.current.janus.room).toBe(4321);
  });

  it('keeps the last good config and says why when the disk is full', async () => {
    await w.sync.tick();
    expect(w.storage).toEqual([undefined]);
    w.files.saveFails = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
    });
    w.server.desired = { config: room(4321), etag: '"b"' };
    await w.sync.tick();
    expect(w.files.desired?.etag).toBe('"a"');
    expect(w.config.current.janus.room).toBe(1234);
    expect(w.storage.at(-1)).toMatchObject({ status: 'error', code: 'E-DISK-FULL' });
    w.files.saveFails = undefined;
    await w.sync.tick();
    expect(w.config.current.janus.room).toBe(4321);
    expect(w.storage.at(-1)).toBeUndefined();
  });

  it('applies at once while the box shows an error', async () => {
    await w.sync.tick();
    setSession(w, 'error');
    w.server.desired = { config: room(4321), etag: '"b"' };
    await w.sync.tick();
    expect(w.config.current.janus.room).toBe(4321);
  });

  it('keeps its last good config while the server is away and catches up after', async () => {
    await w.sync.tick();
    w.server.reachable = false;
    await w.sync.tick();
    expect(w.sync.isReachable()).toBe(false);
    expect(w.config.current.janus.room).toBe(1234);
    w.server.reachable = true;
    w.server.desired = { config: room(777), etag: '"c"' };
    await w.sync.tick();
    expect(w.sync.isReachable()).toBe(true);
    expect(w.config.current.janus.room).toBe(777);
  });

  it('picks up a saved enrolment and config without enrolling again', async () => {
    const fresh = world();
    fresh.files.seed = undefined;
    fresh.files.enrolment = {
      deviceId: 'jx-ruijin-01',
      centreId: 'jx-ruijin',
      displayName: 'x',
      fleetUrl: seed.fleetUrl,
      enrolledAt: 'then',
    };
    fresh.files.desired = { config: room(1234), etag: '"a"' };
    await fresh.sync.tick();
    expect(fresh.enrolment.isEnrolled()).toBe(true);
    expect(fresh.server.beats).toHaveLength(1);
    expect(fresh.nextClass.next()).toEqual({ title: '高等数学', startsAt: '2026-11-30T01:00:00.000Z' });
  });

  it("signs with the server's clock after a clock-skew refusal", async () => {
    await w.sync.tick();
    w.server.skewUntilOffset = 3_600_000;
    await w.sync.tick();
    await w.sync.tick();
    const offset = w.server.sessions.at(-1)!.clockOffsetMs;
    expect(Math.abs(offset - 3_600_000)).toBeLessThan(60_000);
    w.server.skewUntilOffset = offset;
    const before = w.server.beats.length;
    await w.sync.tick();
    expect(w.server.beats.length).toBe(before + 1);
  });

  it('restarts the kiosk and sends a snapshot when IT asks, each once', async () => {
    await w.sync.tick();
    w.server.actions = [
      { id: 'a1', kind: 'restart-kiosk' },
      { id: 'a2', kind: 'snapshot' },
    ];
    await w.sync.tick();
    await w.sync.tick();
    expect(w.kioskRestarts).toHaveLength(1);
    expect(w.server.reports.map((r) => r.id)).toEqual(['a1', 'a2']);
    expect(w.server.reports[1]!.result).toEqual({ ok: true, image: 'data:image/jpeg;base64,/9j/2Q==' });
  });

  it("sends the kiosk's screen when IT asks for a screenshot (issue 18)", async () => {
    await w.sync.tick();
    w.server.actions = [{ id: 's1', kind: 'screenshot' }];
    await w.sync.tick();
    expect(w.server.reports).toEqual([
      {
        id: 's1',
        result: {
          ok: true,
          image: `data:image/jpeg;base64,${Buffer.from([0xff, 0xd8, 0xff, 0xd9, 1]).toString('base64')}`,
        },
      },
    ]);
  });

  it("sends its latest log lines with the box's secrets taken out when IT asks (issue 18)", async () => {
    await w.sync.tick();
    w.config.replace(
      deviceConfigSchema.parse({
        device: { id: 'jx-ruijin-01', displayName: '瑞金教学点' },
        hardware: { mode: 'sim' },
        janus: { url: 'wss://janus.example.cn', room: 1234, apiSecret: 'janus-s3cret-value', pin: '8848' },
      }),
    );
    w.logLines.push(
      ...Array.from({ length: 600 }, (_, i) => JSON.stringify({ level: 'info', msg: `line ${i}` })),
      JSON.stringify({ level: 'warn', msg: 'Retrying janus with secret janus-s3cret-value' }),
      JSON.stringify({ level: 'info', msg: 'Joining', janus: { pin: '8848', room: 1234 } }),
      JSON.stringify({
        level: 'info',
        msg: 'Key -----BEGIN PRIVATE KEY-----\nMC4CAQAw\n-----END PRIVATE KEY-----',
      }),
    );
    w.server.actions = [{ id: 'l1', kind: 'logs' }];
    await w.sync.tick();
    expect(w.server.reports).toHaveLength(1);
    const { result } = w.server.reports[0]!;
    expect(result.ok).toBe(true);
    // The latest 500 lines: the oldest 103 of 603 are left behind.
    expect(result.lines).toHaveLength(500);
    expect(result.lines![0]).toContain('line 103');
    const sent = result.lines!.join('\n');
    expect(sent).not.toContain('janus-s3cret-value');
    expect(sent).not.toContain('8848');
    expect(sent).not.toContain('MC4CAQAw');
    expect(result.lines!.slice(-3)).toEqual([
      JSON.stringify({ level: 'warn', msg: 'Retrying janus with secret <redacted>' }),
      JSON.stringify({ level: 'info', msg: 'Joining', janus: { pin: '<redacted>', room: 1234 } }),
      JSON.stringify({ level: 'info', msg: 'Key <redacted>' }),
    ]);
  });

  it('tells the server when it does not know an action, and keeps working', async () => {
    await w.sync.tick();
    w.server.actions = [{ id: 'x1', kind: 'update-firmware' }];
    await w.sync.tick();
    expect(w.server.reports).toEqual([
      { id: 'x1', result: { ok: false, detail: expect.stringMatching(/can't do "update-firmware"/) } },
    ]);
    expect(w.reboots).toEqual([]);
    expect(w.kioskRestarts).toEqual([]);
  });

  it('reboots only once the class is over, after reporting it', async () => {
    await w.sync.tick();
    setSession(w, 'live');
    w.server.actions = [{ id: 'r1', kind: 'reboot-when-idle' }];
    await w.sync.tick();
    expect(w.reboots).toEqual([]);
    setSession(w, 'idle');
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(w.server.reports.map((r) => r.id)).toEqual(['r1']);
    expect(w.reboots).toEqual(['idle']);
  });

  it('moves the idle screen on to the following class when one ends', async () => {
    w.server.desired = {
      config: desiredConfigSchema.parse({
        timetable: [
          { title: '高等数学', weekday: 1, start: '09:00', end: '10:30' },
          { title: '大学英语', weekday: 1, start: '14:00', end: '15:30' },
        ],
      }),
      etag: '"t"',
    };
    const seen: (string | undefined)[] = [];
    w.nextClass.changed.on('test', (next) => void seen.push(next?.title));
    await w.sync.tick();
    expect(w.nextClass.next()?.title).toBe('高等数学');
    // 08:30 in Ruijin; the first class ends at 10:30, and the screen moves on within a second of it.
    await w.clock.advance(2 * 3600_000 - 60_000);
    expect(seen).toEqual(['高等数学']);
    await w.clock.advance(61_000);
    expect(w.nextClass.next()?.title).toBe('大学英语');
    expect(seen).toEqual(['高等数学', '大学英语']);
  });

  it('sends its vitals with each heartbeat for the fleet history (issue 18)', async () => {
    await w.sync.tick();
    setSession(w, 'live');
    w.network.audioOnly = true;
    w.network.audioOnlyReason = 'uplink';
    w.network.uplinkKbps = 280;
    await w.sync.tick();
    const vitals = w.server.beats.at(-1)?.vitals;
    expect(vitals).toMatchObject({ state: 'live', cpuTemperatureC: 51.2, uplinkKbps: 280, audioOnly: true });
    // Loss is not measured on the box: absent, never a made-up 0.
    expect(vitals && 'lossPercent' in vitals).toBe(false);
  });

  it('sends the missed stretches of its classes only to a server that says it takes them (issue 21)', async () => {
    const at = Date.parse('2026-11-30T08:00:00Z');
    const report = {
      classes: [
        {
          classId: `2222@${new Date(at).toISOString()}`,
          room: 2222,
          joinedAtMs: at,
          endedAtMs: at + 600_000,
          missed: [{ fromMs: at + 60_000, toMs: at + 90_000, reason: 'reconnecting' as const }],
          caughtUpMs: 0,
        },
      ],
    };
    w.sync.reportCatchupWith(() => report);
    await w.sync.tick();
    const first = w.server.beats.at(-1)!;
    expect(first.catchup).toBeUndefined();
    // Why: a server from before the field has a strict schema, and would refuse the whole heartbeat.
    const older = heartbeatSchema.omit({ catchup: true });
    expect(older.safeParse({ ...JSON.parse(JSON.stringify(first)), catchup: report }).success).toBe(false);

    w.server.accepts = ['catchup'];
    await w.sync.tick();
    await w.sync.tick();
    const beat = w.server.beats.at(-1)!;
    expect(beat.catchup).toEqual(report);
    expect(heartbeatSchema.safeParse(JSON.parse(JSON.stringify(beat))).success).toBe(true);
  });

  it('sends no uptime when it could not read it, rather than 0 (a reboot that did not happen)', async () => {
    w.reads.uptimeFails = true;
    await w.sync.tick();
    const beat = w.server.beats.at(-1);
    expect(beat && 'uptimeSec' in beat && beat.uptimeSec !== undefined).toBe(false);
    expect(heartbeatSchema.safeParse(JSON.parse(JSON.stringify(beat))).success).toBe(true);
  });

  it('shows no next class before the fleet sent a timetable', () => {
    expect(w.nextClass.next()).toBeUndefined();
  });
});
