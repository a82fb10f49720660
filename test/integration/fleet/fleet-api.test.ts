import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolmentSeedSchema } from '../../../common/fleet-protocol.js';
import { startFleetServer, type RunningFleetServer } from '../../../provisioning/fleet-server.js';
import { newTestDevice, signedHeaders, type TestDevice, SteppedFleetClock } from '../../helpers/fleet.js';
import { describeEach } from '../../helpers/requirements.js';
import { hasPostgres, startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { generateAdminToken } from '../../../provisioning/services/admin-auth.service.js';

const ADMIN = generateAdminToken();

const CENTRE = {
  id: 'jx-ruijin',
  name: '瑞金教学点',
  region: '江西',
  room: { janusUrl: 'ws://janus.example.cn:8188', room: 1234, pin: 'secret-pin', bitrateKbps: 1024 },
  timetable: [{ title: '高等数学', weekday: 1, start: '09:00', end: '10:30' }],
};

interface Db {
  name: string;
  available?: boolean;
  setup(): Promise<{ location: string; cleanup(): Promise<void> }>;
}

let postgres: TestPostgres | undefined;
const databases: Db[] = [
  {
    name: 'SQLite',
    async setup() {
      const dir = mkdtempSync(join(tmpdir(), 'classbox-fleet-'));
      return {
        location: join(dir, 'fleet.db'),
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
];
databases.push({
  name: 'PostgreSQL',
  available: hasPostgres(),
  async setup() {
    postgres ??= await startPostgres();
    return {
      location: await postgres.createDatabase(`fleet_api_${Date.now()}`),
      cleanup: async () => undefined,
    };
  },
});

afterAll(async () => {
  await postgres?.stop();
});

describeEach(databases)('fleet API on $name', (database) => {
  let server: RunningFleetServer;
  let cleanup: () => Promise<void>;
  const clock = new SteppedFleetClock();

  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    // Response bodies are probed field by field with expect(); a loose type keeps that readable.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, headers: response.headers, json: json as Record<string, any> };
  };
  const admin = (method: string, path: string, body?: unknown) =>
    api(method, `/api/v1/admin${path}`, body, { authorization: `Bearer ${ADMIN}` });
  const deviceCall = async (
    device: TestDevice,
    as: string,
    method: string,
    path: string,
    body?: unknown,
    extra: Partial<Parameters<typeof signedHeaders>[4]> = {},
  ) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers = signedHeaders(device, method, path, text, { as, ...extra });
    return api(method, path, body === undefined ? undefined : text, headers);
  };
  const mint = async (count = 1, extra: Record<string, unknown> = {}) => {
    const res = await admin('POST', `/centres/${CENTRE.id}/enrolment-tokens`, {
      count,
      expiresInSeconds: 3600,
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.json.tokens as {
      deviceId: string;
      token: string;
      expiresAt: string;
      seed: Record<string, unknown>;
    }[];
  };
  const enrol = async (token: string, device = newTestDevice()) => {
    const res = await api('POST', '/api/v1/enrol', {
      token,
      publicKey: device.publicKeyPem,
      version: '0.1.0',
    });
    return { res, device };
  };
  const heartbeat = {
    state: 'idle',
    health: { camera: { status: 'ok' }, microphone: { status: 'ok' } },
    version: '0.1.0',
    uptimeSec: 12,
    temperatureC: 48.5,
    board: 'Raspberry Pi 4 Model B Rev 1.5',
    network: { rttMs: 35 },
  };

  let location: string;

  beforeAll(async () => {
    const db = await database.setup();
    location = db.location;
    cleanup = db.cleanup;
    server = await startFleetServer({
      db: db.location,
      port: 0,
      host: '127.0.0.1',
      firstAdminToken: ADMIN,
      enrolPerMinute: 1000,
      clock,
    });
    expect((await admin('POST', '/centres', CENTRE)).status).toBe(201);
  });

  afterAll(async () => {
    await server?.stop();
    await cleanup?.();
  });

  describe('admin credential', () => {
    it('refuses admin routes without a credential or with a wrong one', async () => {
      const none = await api('GET', '/api/v1/admin/centres');
      expect(none.status).toBe(401);
      expect(none.json.error.code).toBe('E-AUTH-MISSING');
      const wrong = await api('GET', '/api/v1/admin/centres', undefined, {
        authorization: 'Bearer cbx_admin_not-the-one-000000000',
      });
      expect(wrong.status).toBe(401);
      expect(wrong.json.error.code).toBe('E-AUTH-BAD');
    });
  });

  describe('centres', () => {
    it('lists the centre with its room but without its secrets', async () => {
      const res = await admin('GET', `/centres/${CENTRE.id}`);
      expect(res.status).toBe(200);
      expect(res.json.name).toBe('瑞金教学点');
      expect(res.json.room).toMatchObject({
        janusUrl: CENTRE.room.janusUrl,
        room: 1234,
        pinSet: true,
        tokenSet: false,
      });
      expect(JSON.stringify(res.json)).not.toContain('secret-pin');
      expect(res.json.timezone).toBe('Asia/Shanghai');
    });

    it('refuses a duplicate centre with 409', async () => {
      const res = await admin('POST', '/centres', CENTRE);
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe('E-CONFLICT');
    });

    it('names every bad field of a centre', async () => {
      const res = await admin('POST', '/centres', {
        ...CENTRE,
        id: 'Bad Id',
        room: { janusUrl: 'http://x', room: 'one' },
      });
      expect(res.status).toBe(400);
      expect(res.json.error.details).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^id:/),
          expect.stringMatching(/^room\.janusUrl:/),
          expect.stringMatching(/^room\.room:/),
        ]),
      );
    });

    it('answers 404 for unknown and malformed ids', async () => {
      expect((await admin('GET', '/centres/no-such-centre')).status).toBe(404);
      expect((await admin('GET', '/centres/%E2%9C%93')).status).toBe(404);
      expect((await admin('PATCH', '/centres/no-such-centre', { name: 'x' })).status).toBe(404);
    });

    it('refuses a timetable entry that ends before it starts', async () => {
      const res = await admin('PATCH', `/centres/${CENTRE.id}`, {
        timetable: [{ title: 'x', weekday: 8, start: '10:00', end: '09:00' }],
      });
      expect(res.status).toBe(400);
      expect(res.json.error.details).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^timetable\.0\.weekday:/),
          expect.stringMatching(/^timetable\.0\.end:/),
        ]),
      );
    });
  });

  describe('bad input', () => {
    it('answers malformed JSON with 400', async () => {
      const res = await api('POST', '/api/v1/admin/centres', '{"id": ', { authorization: `Bearer ${ADMIN}` });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('E-BAD-REQUEST');
    });

    it('answers an oversized body with 413', async () => {
      const res = await api('POST', '/api/v1/enrol', { token: 'x'.repeat(2 * 1024 * 1024), publicKey: 'y' });
      expect(res.status).toBe(413);
      expect(res.json.error.code).toBe('E-TOO-LARGE');
    });

    it('answers a body that is not JSON with 415 and an unknown route with 404', async () => {
      const res = await api('POST', '/api/v1/enrol', '<token/>', { 'content-type': 'application/xml' });
      expect(res.status).toBe(415);
      expect(res.json.error.code).toBe('E-UNSUPPORTED-MEDIA-TYPE');
      const missing = await api('POST', '/api/v1/nothing-here', {});
      expect(missing.status).toBe(404);
      expect(missing.json.error.code).toBe('E-NOT-FOUND');
    });

    it('answers wrong types with 400 naming the field', async () => {
      const res = await api('POST', '/api/v1/enrol', { token: 42, publicKey: ['no'] });
      expect(res.status).toBe(400);
      expect(res.json.error.details).toEqual(
        expect.arrayContaining([expect.stringMatching(/^token:/), expect.stringMatching(/^publicKey:/)]),
      );
    });

    it('answers a non-Ed25519 key with 400', async () => {
      const [minted] = await mint();
      const res = await api('POST', '/api/v1/enrol', {
        token: minted!.token,
        publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
      });
      expect(res.status).toBe(400);
      expect(res.json.error.message).toMatch(/Ed25519/);
    });
  });

  describe('enrolment', () => {
    it('mints tokens with seed files that follow the flash-tool contract', async () => {
      const tokens = await mint(2, { displayNames: ['瑞金一号', '瑞金二号'] });
      expect(tokens).toHaveLength(2);
      expect(new Set(tokens.map((t) => t.deviceId)).size).toBe(2);
      for (const t of tokens) {
        const seed = enrolmentSeedSchema.parse(t.seed);
        expect(seed).toMatchObject({
          fleetUrl: server.url,
          token: t.token,
          deviceId: t.deviceId,
          centreId: CENTRE.id,
        });
        expect(t.deviceId).toMatch(/^jx-ruijin-\d{2}$/);
      }
      expect(tokens[1]!.seed.displayName).toBe('瑞金二号');
      const list = await admin('GET', `/centres/${CENTRE.id}/enrolment-tokens`);
      expect(
        list.json.tokens.filter((t: { status: string }) => t.status === 'unused').length,
      ).toBeGreaterThanOrEqual(2);
      expect(JSON.stringify(list.json)).not.toContain(tokens[0]!.token);
    });

    it('mints for named devices and refuses mismatched lists', async () => {
      const [t] = await mint(1, { deviceIds: ['jx-ruijin-named'] });
      expect(t!.deviceId).toBe('jx-ruijin-named');
      const bad = await admin('POST', `/centres/${CENTRE.id}/enrolment-tokens`, {
        count: 2,
        expiresInSeconds: 3600,
        deviceIds: ['a-1'],
      });
      expect(bad.status).toBe(400);
      expect(
        (await admin('POST', '/centres/nowhere/enrolment-tokens', { count: 1, expiresInSeconds: 3600 }))
          .status,
      ).toBe(404);
    });

    it('enrols once with a token and refuses its reuse', async () => {
      const [t] = await mint();
      const first = await enrol(t!.token);
      expect(first.res.status).toBe(201);
      expect(first.res.json).toMatchObject({ deviceId: t!.deviceId, centreId: CENTRE.id });
      expect(first.res.json.config.janus).toMatchObject({
        url: CENTRE.room.janusUrl,
        room: 1234,
        pin: 'secret-pin',
      });
      expect(first.res.json.config.timetable).toEqual(CENTRE.timetable);
      const again = await enrol(t!.token);
      expect(again.res.status).toBe(401);
      expect(again.res.json.error.code).toBe('E-TOKEN-USED');
    });

    it('lets only one of two simultaneous enrolments with one token win', async () => {
      const [t] = await mint();
      const results = await Promise.all([enrol(t!.token), enrol(t!.token), enrol(t!.token)]);
      expect(results.map((r) => r.res.status).sort()).toEqual([201, 401, 401]);
    });

    it('refuses unknown and expired tokens', async () => {
      const unknown = await enrol('cbx_enrol_this-token-was-never-minted');
      expect(unknown.res.status).toBe(401);
      expect(unknown.res.json.error.code).toBe('E-TOKEN-UNKNOWN');
      const [t] = await mint();
      clock.offsetMs = 3601_000;
      try {
        const expired = await enrol(t!.token);
        expect(expired.res.status).toBe(401);
        expect(expired.res.json.error.code).toBe('E-TOKEN-EXPIRED');
      } finally {
        clock.offsetMs = 0;
      }
      const list = await admin('GET', `/centres/${CENTRE.id}/enrolment-tokens`);
      expect(list.json.tokens.find((x: { deviceId: string }) => x.deviceId === t!.deviceId).status).toBe(
        'unused',
      );
    });
  });

  describe('device API', () => {
    let a: { id: string; device: TestDevice };
    let b: { id: string; device: TestDevice };

    beforeAll(async () => {
      const [ta, tb] = await mint(2);
      const ea = await enrol(ta!.token);
      const eb = await enrol(tb!.token);
      a = { id: ta!.deviceId, device: ea.device };
      b = { id: tb!.deviceId, device: eb.device };
    });

    it('takes a signed heartbeat and shows the box online with its health', async () => {
      const res = await deviceCall(a.device, a.id, 'POST', `/api/v1/devices/${a.id}/heartbeat`, {
        ...heartbeat,
        state: 'live',
        health: { camera: { status: 'missing', code: 'E-CAMERA-MISSING' }, microphone: { status: 'ok' } },
      });
      expect(res.status).toBe(200);
      expect(res.json.actions).toEqual([]);
      const view = await admin('GET', `/devices/${a.id}`);
      expect(view.json).toMatchObject({
        online: true,
        inClass: true,
        state: 'live',
        version: '0.1.0',
        problems: ['camera: E-CAMERA-MISSING'],
      });
      expect(view.json.vitals).toMatchObject({
        uptimeSec: 12,
        temperatureC: 48.5,
        rttMs: 35,
        board: 'Raspberry Pi 4 Model B Rev 1.5',
      });
    });

    it('shows a box offline once its heartbeats stop', async () => {
      clock.offsetMs = 91_000;
      try {
        const view = await admin('GET', `/devices/${a.id}`);
        expect(view.json).toMatchObject({ online: false, inClass: false });
      } finally {
        clock.offsetMs = 0;
      }
    });

    it('serves the desired config with an ETag and answers an unchanged poll with 304', async () => {
      const path = `/api/v1/devices/${a.id}/config`;
      const first = await deviceCall(a.device, a.id, 'GET', path);
      expect(first.status).toBe(200);
      const etag = first.headers.get('etag');
      expect(etag).toBeTruthy();
      expect(first.json.janus.room).toBe(1234);
      const headers = { ...signedHeaders(a.device, 'GET', path, '', { as: a.id }), 'if-none-match': etag! };
      const second = await api('GET', path, undefined, headers);
      expect(second.status).toBe(304);
      expect(second.json).toBeUndefined();

      expect(
        (
          await admin('PATCH', `/centres/${CENTRE.id}`, {
            room: { janusUrl: CENTRE.room.janusUrl, room: 4321 },
          })
        ).status,
      ).toBe(200);
      const changed = await api('GET', path, undefined, {
        ...signedHeaders(a.device, 'GET', path, '', { as: a.id }),
        'if-none-match': etag!,
      });
      expect(changed.status).toBe(200);
      expect(changed.headers.get('etag')).not.toBe(etag);
      expect(changed.json.janus).toMatchObject({ room: 4321, pin: 'secret-pin' });
    });

    it("refuses another device's config", async () => {
      const res = await deviceCall(a.device, a.id, 'GET', `/api/v1/devices/${b.id}/config`);
      expect(res.status).toBe(403);
      expect(res.json.error.code).toBe('E-FORBIDDEN');
      const pretending = await deviceCall(a.device, b.id, 'GET', `/api/v1/devices/${b.id}/config`);
      expect(pretending.status).toBe(401);
      expect(pretending.json.error.code).toBe('E-SIGNATURE-BAD');
    });

    it('refuses unsigned, tampered, skewed and replayed requests', async () => {
      const path = `/api/v1/devices/${a.id}/heartbeat`;
      const unsigned = await api('POST', path, heartbeat);
      expect(unsigned.json.error.code).toBe('E-SIGNATURE-MISSING');
      const body = JSON.stringify(heartbeat);
      const tampered = await api(
        'POST',
        path,
        body,
        signedHeaders(a.device, 'POST', path, body, { as: a.id, signedBody: '{}' }),
      );
      expect(tampered.status).toBe(401);
      expect(tampered.json.error.code).toBe('E-SIGNATURE-BAD');
      const skewed = await deviceCall(a.device, a.id, 'POST', path, heartbeat, {
        timestampMs: Date.now() - 10 * 60_000,
      });
      expect(skewed.status).toBe(401);
      expect(skewed.json.error.code).toBe('E-CLOCK-SKEW');
      expect(Date.parse(skewed.json.serverTime)).not.toBeNaN();
      const headers = signedHeaders(a.device, 'POST', path, body, { as: a.id });
      expect((await api('POST', path, body, headers)).status).toBe(200);
      const replay = await api('POST', path, body, headers);
      expect(replay.status).toBe(401);
      expect(replay.json.error.code).toBe('E-REPLAY');
      const stranger = await deviceCall(
        newTestDevice(),
        'jx-nobody-01',
        'GET',
        '/api/v1/devices/jx-nobody-01/config',
      );
      // Issue 13: an unknown id is answered exactly like a bad signature (no probing for ids).
      expect(stranger.status).toBe(tampered.status);
      expect(stranger.json.error).toEqual(tampered.json.error);
    });

    it('refuses a heartbeat with wrong types, naming the fields', async () => {
      const res = await deviceCall(a.device, a.id, 'POST', `/api/v1/devices/${a.id}/heartbeat`, {
        ...heartbeat,
        state: 'dancing',
        uptimeSec: -1,
      });
      expect(res.status).toBe(400);
      expect(res.json.error.details).toEqual(
        expect.arrayContaining([expect.stringMatching(/^state:/), expect.stringMatching(/^uptimeSec:/)]),
      );
    });

    it('delivers remote actions with the heartbeat until the box reports them done', async () => {
      const action = await admin('POST', `/devices/${a.id}/actions`, { kind: 'snapshot' });
      expect(action.status).toBe(201);
      const beat = await deviceCall(a.device, a.id, 'POST', `/api/v1/devices/${a.id}/heartbeat`, heartbeat);
      expect(beat.json.actions).toEqual([{ id: action.json.id, kind: 'snapshot' }]);
      const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
      const report = await deviceCall(
        a.device,
        a.id,
        'POST',
        `/api/v1/devices/${a.id}/actions/${action.json.id}/result`,
        {
          ok: true,
          image: `data:image/jpeg;base64,${jpeg.toString('base64')}`,
        },
      );
      expect(report.status).toBe(204);
      const again = await deviceCall(a.device, a.id, 'POST', `/api/v1/devices/${a.id}/heartbeat`, heartbeat);
      expect(again.json.actions).toEqual([]);
      const picture = await fetch(`${server.url}/api/v1/admin/devices/${a.id}/snapshot`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      expect(picture.headers.get('content-type')).toBe('image/jpeg');
      expect(Buffer.from(await picture.arrayBuffer())).toEqual(jpeg);
      const list = await admin('GET', `/devices/${a.id}/actions`);
      expect(list.json[0]).toMatchObject({ id: action.json.id, status: 'done' });
    });

    it("refuses to report on another device's action or an unknown one", async () => {
      const action = await admin('POST', `/devices/${a.id}/actions`, { kind: 'restart-kiosk' });
      const res = await deviceCall(
        b.device,
        b.id,
        'POST',
        `/api/v1/devices/${b.id}/actions/${action.json.id}/result`,
        { ok: true },
      );
      expect(res.status).toBe(404);
      expect((await admin('POST', `/devices/${a.id}/actions`, { kind: 'format-disk' })).status).toBe(400);
      expect((await admin('POST', '/devices/jx-nobody-01/actions', { kind: 'snapshot' })).status).toBe(404);
    });

    it('lists devices by centre', async () => {
      const res = await admin('GET', `/devices?centre=${CENTRE.id}`);
      expect(res.json.map((d: { id: string }) => d.id)).toEqual(expect.arrayContaining([a.id, b.id]));
      expect((await admin('GET', '/devices?centre=BAD!')).status).toBe(400);
    });

    it('shows the latest heartbeat even when an older one arrives after it', async () => {
      const path = `/api/v1/devices/${b.id}/heartbeat`;
      const signedAt = Date.now();
      const newer = await deviceCall(
        b.device,
        b.id,
        'POST',
        path,
        { ...heartbeat, state: 'live' },
        {
          timestampMs: signedAt,
        },
      );
      expect(newer.status).toBe(200);
      // Delayed in the network (or by a batch on another replica): signed earlier, arriving later.
      const older = await deviceCall(
        b.device,
        b.id,
        'POST',
        path,
        { ...heartbeat, state: 'joining' },
        {
          timestampMs: signedAt - 5_000,
        },
      );
      expect(older.status).toBe(200);
      expect((await admin('GET', `/devices/${b.id}`)).json.state).toBe('live');
    });

    it('stores every one of many concurrent heartbeats (one batch), each box its own', async () => {
      const tokens = await mint(12);
      const boxes = await Promise.all(
        tokens.map(async (t) => ({ id: t.deviceId, device: (await enrol(t.token)).device })),
      );
      const states = ['idle', 'joining', 'live', 'reconnecting'] as const;
      const answers = await Promise.all(
        boxes.map((box, i) =>
          deviceCall(box.device, box.id, 'POST', `/api/v1/devices/${box.id}/heartbeat`, {
            ...heartbeat,
            state: states[i % states.length],
            uptimeSec: 1000 + i,
          }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(boxes.map(() => 200));
      const listed = (await admin('GET', `/devices?centre=${CENTRE.id}`)).json as {
        id: string;
        state: string;
        vitals: { uptimeSec: number };
      }[];
      boxes.forEach((box, i) => {
        const row = listed.find((d) => d.id === box.id);
        expect(row).toMatchObject({ state: states[i % states.length], vitals: { uptimeSec: 1000 + i } });
      });
    });

    it('refuses a replay after the server restarts on the same database', async () => {
      const path = `/api/v1/devices/${a.id}/heartbeat`;
      const body = JSON.stringify(heartbeat);
      const headers = signedHeaders(a.device, 'POST', path, body, { as: a.id });
      expect((await api('POST', path, body, headers)).status).toBe(200);
      await server.stop();
      server = await startFleetServer({ db: location, port: 0, host: '127.0.0.1', clock });
      const replay = await api('POST', path, body, headers);
      expect(replay.status).toBe(401);
      expect(replay.json.error.code).toBe('E-REPLAY');
      const fresh = await deviceCall(a.device, a.id, 'POST', path, heartbeat);
      expect(fresh.status).toBe(200);
    });

    it('lets exactly one of two replicas take one request sent to both at once', async () => {
      const replica = await startFleetServer({ db: location, port: 0, host: '127.0.0.1', clock });
      try {
        for (let round = 0; round < 5; round++) {
          const path = `/api/v1/devices/${a.id}/heartbeat`;
          const body = JSON.stringify({ ...heartbeat, uptimeSec: 500 + round });
          const headers = {
            ...signedHeaders(a.device, 'POST', path, body, { as: a.id }),
            'content-type': 'application/json',
          };
          const both = await Promise.all(
            [server.url, replica.url].map((url) => fetch(`${url}${path}`, { method: 'POST', headers, body })),
          );
          expect(both.map((r) => r.status).sort()).toEqual([200, 401]);
        }
      } finally {
        await replica.stop();
      }
    });

    it('runs as stateless replicas on one database: a request replayed to another replica is refused', async () => {
      const replica = await startFleetServer({ db: location, port: 0, host: '127.0.0.1', clock });
      try {
        const path = `/api/v1/devices/${a.id}/heartbeat`;
        const body = JSON.stringify({ ...heartbeat, state: 'joining' });
        const headers = {
          ...signedHeaders(a.device, 'POST', path, body, { as: a.id }),
          'content-type': 'application/json',
        };
        const first = await fetch(`${replica.url}${path}`, { method: 'POST', headers, body });
        expect(first.status).toBe(200);
        expect((await admin('GET', `/devices/${a.id}`)).json.state).toBe('joining');
        const replayed = await api('POST', path, body, headers);
        expect(replayed.status).toBe(401);
        expect(replayed.json.error.code).toBe('E-REPLAY');
      } finally {
        await replica.stop();
      }
    });
  });
});

describe('enrolment rate limit', () => {
  it('answers 429 after too many attempts from one address', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'classbox-fleet-'));
    const server = await startFleetServer({
      db: join(dir, 'f.db'),
      port: 0,
      host: '127.0.0.1',
      enrolPerMinute: 3,
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${server.url}/api/v1/enrol`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token: 'cbx_enrol_guessing-a-token-000', publicKey: 'x'.repeat(50) }),
        });
        statuses.push(res.status);
        if (res.status === 429)
          expect(((await res.json()) as { error: { code: string } }).error.code).toBe('E-RATE-LIMITED');
      }
      expect(statuses).toEqual([400, 400, 400, 429, 429]);
      const health = await fetch(`${server.url}/api/v1/health`);
      expect(health.status).toBe(200);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
