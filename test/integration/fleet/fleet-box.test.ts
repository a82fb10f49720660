import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../cli/classbox.js';
import { enrolmentSeedSchema } from '../../../common/fleet-protocol.js';
import { createLogger } from '../../../common/logger.js';
import { VERSION } from '../../../common/version.js';
import { ConfigService } from '../../../device/services/config.service.js';
import { startFleetServer, type RunningFleetServer } from '../../../provisioning/fleet-server.js';
import { freePort } from '../../helpers/ports.js';
import { signedHeaders } from '../../helpers/fleet.js';
import { connectFakePage, FAKE_JPEG } from '../../helpers/fake-kiosk-page.js';
import { eventually, startSimBox, writeFleetBoxConfig, type SimBox } from '../../helpers/sim-box.js';
import { generateAdminToken } from '../../../provisioning/services/admin-auth.service.js';

const ADMIN = generateAdminToken();

/**
 * The whole way a box joins the fleet: IT mints a token with the CLI, the box in `sim` mode
 * enrols with it, heartbeats, takes a new room between classes, and survives the server's absence.
 */
describe('a sim box in the fleet', () => {
  let dir: string;
  let dbFile: string;
  let port: number;
  let server: RunningFleetServer | undefined;
  let box: SimBox | undefined;
  let seedFile: string;
  let seedText: string;

  const startServer = async () => {
    server = await startFleetServer({ db: dbFile, port, host: '127.0.0.1', firstAdminToken: ADMIN });
    return server;
  };
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server!.url}/api/v1/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const status = async () =>
    (await (await fetch(`${box!.daemon.url}/api/status`)).json()) as {
      state: string;
      room: number | null;
      deviceId: string;
    };

  /** Hold the class button past session.endHoldMs (500 ms in the sim box's config). */
  const endClass = async () => {
    await fetch(`${box!.daemon.url}/api/buttons/class/press`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ holdMs: 700 }),
    });
    await eventually('the class ends', async () => (await status()).state === 'idle');
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-fleet-box-'));
    dbFile = join(dir, 'fleet.db');
    port = await freePort();
    await startServer();
    const cli = (...args: string[]) => main(['fleet', ...args]);
    expect(
      await cli(
        'centre',
        'create',
        '--db',
        dbFile,
        '--id',
        'jx-ruijin',
        '--name',
        '瑞金教学点',
        '--region',
        '江西',
        '--janus-url',
        'ws://janus.example.cn:8188',
        '--room',
        '1234',
      ),
    ).toBe(0);
    expect(
      await cli(
        'token',
        'create',
        '--db',
        dbFile,
        '--centre',
        'jx-ruijin',
        '--expires',
        '2w',
        '--fleet-url',
        server!.url,
        '--out',
        join(dir, 'seeds'),
      ),
    ).toBe(0);
    seedFile = join(dir, 'seeds', 'jx-ruijin-01', 'classbox-enrol.json');
    expect(statSync(seedFile).mode & 0o777).toBe(0o600);
    seedText = readFileSync(seedFile, 'utf8');
    expect(enrolmentSeedSchema.parse(JSON.parse(seedText))).toMatchObject({
      deviceId: 'jx-ruijin-01',
      displayName: '瑞金教学点',
      fleetUrl: server!.url,
    });
  });

  // The CLI reports through process.exitCode, which outlives each in-process run.
  afterEach(() => {
    process.exitCode = undefined;
  });

  afterAll(async () => {
    await box?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a bad token request from the CLI with exit code 2', async () => {
    expect(
      await main([
        'fleet',
        'token',
        'create',
        '--db',
        dbFile,
        '--centre',
        'nowhere',
        '--fleet-url',
        server!.url,
        '--out',
        join(dir, 'x'),
      ]),
    ).toBe(2);
    expect(
      await main([
        'fleet',
        'token',
        'create',
        '--db',
        dbFile,
        '--centre',
        'jx-ruijin',
        '--expires',
        'soon',
        '--fleet-url',
        server!.url,
      ]),
    ).toBe(2);
  });

  it('serves with `fleet serve` and accepts a credential from `fleet admin create`', async () => {
    const cliPort = await freePort();
    const cliDb = join(dir, 'cli.db');
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      expect(await main(['fleet', 'admin', 'create', '--db', cliDb, '--name', 'it'])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    const token = written.join('').trim();
    expect(token).toMatch(/^cbx_admin_/);
    const serving = main(['fleet', 'serve', '--db', cliDb, '--port', String(cliPort)]);
    try {
      await eventually('the server answers', async () => {
        try {
          return (await fetch(`http://127.0.0.1:${cliPort}/api/v1/health`)).ok;
        } catch {
          return false;
        }
      });
      const centres = await fetch(`http://127.0.0.1:${cliPort}/api/v1/admin/centres`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(centres.status).toBe(200);
    } finally {
      process.emit('SIGTERM');
    }
    expect(await serving).toBe(0);
  });

  it('enrols at first boot, keeps its key private and deletes the enrolment file', async () => {
    const configFile = await writeFleetBoxConfig(dir, server!.url, seedFile);
    box = await startSimBox(configFile);
    await eventually('the box enrols', () => box!.enrolment.isEnrolled());
    await eventually('the enrolment file is deleted', () => !existsSync(seedFile));
    const keyFile = join(dir, 'state', 'fleet', 'device-key.pem');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(createPrivateKey(readFileSync(keyFile)).asymmetricKeyType).toBe('ed25519');
    await eventually('the box has the room the fleet sent', async () => (await status()).room === 1234);
    expect((await status()).deviceId).toBe('jx-ruijin-01');
  });

  it('heartbeats: the fleet shows it online with its version', async () => {
    await box!.fleet.tick();
    const device = await admin('GET', '/devices/jx-ruijin-01');
    expect(device.json).toMatchObject({ online: true, state: 'idle', inClass: false, version: VERSION });
  });

  it("refuses the token's reuse", async () => {
    const seed = enrolmentSeedSchema.parse(JSON.parse(seedText));
    const again = await fetch(`${server!.url}/api/v1/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token: seed.token,
        publicKey: generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
      }),
    });
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('E-TOKEN-USED');
  });

  it("refuses another device's config, even signed with a real device key", async () => {
    const privateKey = createPrivateKey(readFileSync(join(dir, 'state', 'fleet', 'device-key.pem')));
    const path = '/api/v1/devices/jx-ruijin-02/config';
    const headers = signedHeaders({ privateKey, publicKeyPem: '' }, 'GET', path, '', { as: 'jx-ruijin-01' });
    const response = await fetch(`${server!.url}${path}`, { headers });
    expect(response.status).toBe(403);
  });

  it('takes a new room between classes and joins it at the next class', async () => {
    const page = await connectFakePage(box!.daemon.url);
    try {
      const timetable = [{ title: '高等数学', weekday: 1, start: '09:00', end: '10:30' }];
      const change = { room: { janusUrl: 'ws://janus.example.cn:8188', room: 4321 }, timetable };
      expect((await admin('PATCH', '/centres/jx-ruijin', change)).status).toBe(200);
      await box!.fleet.tick();
      expect((await status()).room).toBe(4321);
      await eventually(
        'the idle screen shows the next class',
        () => page.lastScreen()?.nextClass?.title === '高等数学',
      );
      expect(new Date(page.lastScreen()!.nextClass!.startsAt).getUTCDay()).toBe(1);
      const saved = JSON.parse(readFileSync(join(dir, 'state', 'fleet', 'desired-config.json'), 'utf8')) as {
        config: { janus: { room: number } };
      };
      expect(saved.config.janus.room).toBe(4321);
      await fetch(`${box!.daemon.url}/api/buttons/class/press`, { method: 'POST' });
      await eventually('the class is live', async () => (await status()).state === 'live');
      expect(box!.janus.publishes.at(-1)).toMatchObject({ room: 4321, display: '瑞金教学点' });
      await endClass();
    } finally {
      page.close();
    }
  });

  it('waits for the class to end before applying a config change', async () => {
    const page = await connectFakePage(box!.daemon.url);
    try {
      await fetch(`${box!.daemon.url}/api/buttons/class/press`, { method: 'POST' });
      await eventually('the class is live', async () => (await status()).state === 'live');
      await box!.fleet.tick();
      expect((await admin('GET', '/devices/jx-ruijin-01')).json).toMatchObject({
        inClass: true,
        state: 'live',
      });
      expect(
        (
          await admin('PATCH', '/centres/jx-ruijin', {
            room: { janusUrl: 'ws://janus.example.cn:8188', room: 5555 },
          })
        ).status,
      ).toBe(200);
      await box!.fleet.tick();
      expect(box!.daemon.app.get(ConfigService).current.janus.room).toBe(4321);
      expect((await status()).room).toBe(4321);
      await endClass();
      expect(box!.daemon.app.get(ConfigService).current.janus.room).toBe(5555);
    } finally {
      page.close();
    }
  });

  it('sends a camera snapshot when IT asks for one', async () => {
    const page = await connectFakePage(box!.daemon.url);
    try {
      const action = await admin('POST', '/devices/jx-ruijin-01/actions', { kind: 'snapshot' });
      expect(action.status).toBe(201);
      await box!.fleet.tick();
      const picture = await fetch(`${server!.url}/api/v1/admin/devices/jx-ruijin-01/snapshot`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      expect(picture.status).toBe(200);
      expect(Buffer.from(await picture.arrayBuffer())).toEqual(FAKE_JPEG);
    } finally {
      page.close();
    }
  });

  it('sends its latest log lines with every secret taken out when IT asks (issue 18)', async () => {
    const apiSecret = 'room-api-s3cret-7f3a';
    expect(
      (
        await admin('PATCH', '/centres/jx-ruijin', {
          room: { janusUrl: 'ws://janus.example.cn:8188', room: 5555, apiSecret, pin: '8848' },
        })
      ).status,
    ).toBe(200);
    await box!.fleet.tick();
    await eventually(
      'the box has the room secret',
      () => box!.daemon.app.get(ConfigService).current.janus.apiSecret === apiSecret,
    );
    const privateKey = readFileSync(join(dir, 'state', 'fleet', 'device-key.pem'), 'utf8');
    // What a careless message or library might write: each of the box's secrets, and IT's credential.
    const careless = createLogger('CarelessLibrary');
    careless.warn(`Janus refused api secret ${apiSecret} for room 5555 with pin 8848`);
    careless.warn({ request: { headers: { authorization: `Bearer ${ADMIN}` } } }, 'Request failed');
    careless.error(`Can't load key ${privateKey}`);

    const action = await admin('POST', '/devices/jx-ruijin-01/actions', { kind: 'logs' });
    expect(action.status).toBe(201);
    await box!.fleet.tick();
    const logs = await admin('GET', '/devices/jx-ruijin-01/logs');
    expect(logs.status).toBe(200);
    const lines = logs.json.lines as string[];
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.length).toBeLessThanOrEqual(500);
    // JSON lines as the process wrote them, the latest ones (the fleet server shares this test's process).
    const parsed = lines.map((line) => JSON.parse(line) as { msg: string; ctx?: string; time: string });
    expect(parsed.every((l) => typeof l.msg === 'string' && !Number.isNaN(Date.parse(l.time)))).toBe(true);
    const text = lines.join('\n');
    for (const secret of [apiSecret, '8848', ADMIN.slice('cbx_admin_'.length), privateKey.split('\n')[1]!])
      expect(text).not.toContain(secret);
    expect(parsed.filter((l) => l.ctx === 'CarelessLibrary').map((l) => l.msg)).toEqual([
      'Janus refused api secret <redacted> for room 5555 with pin <redacted>',
      'Request failed',
      "Can't load key <redacted>\n",
    ]);
    expect(text).toContain('"authorization":"<redacted>"');
  });

  it('keeps its last good config with the server stopped, also across a restart, and catches up after', async () => {
    await server!.stop();
    server = undefined;
    await box!.fleet.tick();
    expect(box!.fleet.isReachable()).toBe(false);
    expect((await status()).room).toBe(5555);

    await box!.stop();
    box = await startSimBox(box!.configFile);
    await box.fleet.tick();
    expect(await status()).toMatchObject({ deviceId: 'jx-ruijin-01', room: 5555 });
    expect(box.fleet.isReachable()).toBe(false);

    await startServer();
    expect(
      (
        await admin('PATCH', '/centres/jx-ruijin', {
          room: { janusUrl: 'ws://janus.example.cn:8188', room: 6666 },
        })
      ).status,
    ).toBe(200);
    await box.fleet.tick();
    expect(box.fleet.isReachable()).toBe(true);
    expect((await status()).room).toBe(6666);
    expect((await admin('GET', '/devices/jx-ruijin-01')).json).toMatchObject({ online: true });
  });
});
