import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startFleetServer, type RunningFleetServer } from '../../../provisioning/fleet-server.js';
import { ReleasesRepository } from '../../../provisioning/repositories/releases.repository.js';
import { inShare } from '../../../provisioning/services/releases.service.js';
import { newTestDevice, signedHeaders, type TestDevice } from '../../helpers/fleet.js';
import { describeEach } from '../../helpers/requirements.js';
import { hasPostgres, startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { makeKeys, makeRelease, type TestRelease } from '../../helpers/releases.js';
import { generateAdminToken } from '../../../provisioning/services/admin-auth.service.js';

const ADMIN = generateAdminToken();

const CENTRE = {
  id: 'jx-ruijin',
  name: '瑞金教学点',
  region: '江西',
  room: { janusUrl: 'ws://janus.example.cn:8188', room: 1234 },
};

let postgres: TestPostgres | undefined;
const databases: { name: string; available?: boolean; location: (dir: string) => Promise<string> }[] = [
  { name: 'SQLite', location: (dir) => Promise.resolve(join(dir, 'fleet.db')) },
];
databases.push({
  name: 'PostgreSQL',
  available: hasPostgres(),
  location: async () => {
    postgres ??= await startPostgres();
    return postgres.createDatabase(`fleet_releases_${Date.now()}`);
  },
});

afterAll(async () => {
  await postgres?.stop();
});

/** The fleet's release API: registering, uploading, rolling out, offering and serving a release. */
describeEach(databases)('release API on $name', (database) => {
  let dir: string;
  let server: RunningFleetServer;
  let releases: TestRelease[];
  let location: string;
  let trustedKey: string;
  const devices: { id: string; key: TestDevice }[] = [];

  const api = async (
    method: string,
    path: string,
    body?: string | Buffer,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(`${server.url}${path}`, { method, headers, body });
    const bytes = Buffer.from(await response.arrayBuffer());
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      json = undefined;
    }
    // Probed field by field with expect(); a loose type keeps that readable.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, headers: response.headers, bytes, json: json as Record<string, any> };
  };
  const admin = (method: string, path: string, body?: unknown) =>
    api(method, `/api/v1/admin${path}`, body === undefined ? undefined : JSON.stringify(body), {
      authorization: `Bearer ${ADMIN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    });
  const upload = (version: string, bytes: Buffer) =>
    api('PUT', `/api/v1/admin/releases/${version}/payload`, bytes, {
      authorization: `Bearer ${ADMIN}`,
      'content-type': 'application/octet-stream',
    });
  const register = (release: TestRelease) =>
    admin('POST', '/releases', { manifest: release.manifestText, signature: release.signature });
  const heartbeat = async (device: { id: string; key: TestDevice }, update?: unknown) => {
    const path = `/api/v1/devices/${device.id}/heartbeat`;
    const body = JSON.stringify({
      state: 'idle',
      health: {},
      version: '1.0.0',
      uptimeSec: 5,
      network: {},
      ...(update ? { update } : {}),
    });
    const res = await api(
      'POST',
      path,
      body,
      signedHeaders(device.key, 'POST', path, body, { as: device.id }),
    );
    expect(res.status).toBe(200);
    return res.json.update as { version: string; manifest: string; payloadPath: string } | undefined;
  };
  const download = (device: { id: string; key: TestDevice }, path: string, range?: string) =>
    api('GET', path, undefined, {
      ...signedHeaders(device.key, 'GET', path, '', {
        as: devices[0]!.id === device.id ? device.id : device.id,
      }),
      ...(range ? { range } : {}),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-release-api-'));
    const keys = makeKeys(dir);
    location = await database.location(dir);
    trustedKey = readFileSync(join(keys.keysDir, 'release.pub.pem'), 'utf8');
    server = await startFleetServer({
      db: location,
      port: 0,
      host: '127.0.0.1',
      firstAdminToken: ADMIN,
      releasesDir: join(dir, 'payloads'),
      trustedReleaseKeys: [trustedKey],
    });
    expect((await admin('POST', '/centres', CENTRE)).status).toBe(201);
    const minted = await admin('POST', `/centres/${CENTRE.id}/enrolment-tokens`, {
      count: 4,
      expiresInSeconds: 3600,
    });
    for (const { deviceId, token } of minted.json.tokens as { deviceId: string; token: string }[]) {
      const key = newTestDevice();
      const res = await api('POST', '/api/v1/enrol', JSON.stringify({ token, publicKey: key.publicKeyPem }), {
        'content-type': 'application/json',
      });
      expect(res.status).toBe(201);
      devices.push({ id: deviceId, key });
    }
    releases = [await makeRelease(dir, '1.1.0', keys), await makeRelease(dir, '1.2.0', keys)];
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('needs an admin credential, and takes a raw body on the upload route only', async () => {
    expect((await api('GET', '/api/v1/admin/releases')).status).toBe(401);
    expect(
      (
        await api('PUT', '/api/v1/admin/releases/1.1.0/payload', Buffer.from('x'), {
          'content-type': 'application/octet-stream',
        })
      ).status,
    ).toBe(401);
    const elsewhere = await api('POST', '/api/v1/enrol', Buffer.alloc(10), {
      'content-type': 'application/octet-stream',
    });
    expect(elsewhere.status).toBe(415);
  });

  it('names what is wrong with a manifest, and refuses a version twice', async () => {
    const bad = await admin('POST', '/releases', {
      manifest: releases[0]!.manifestText
        .replace('"arch": "x64"', '"arch": "sparc"')
        .replace('"arch": "arm64"', '"arch": "sparc"'),
      signature: releases[0]!.signature,
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details).toEqual([expect.stringMatching(/^arch: /)]);
    expect((await register(releases[0]!)).json).toMatchObject({
      version: '1.1.0',
      status: 'awaiting-payload',
    });
    expect((await register(releases[0]!)).json.error.code).toBe('E-RELEASE-EXISTS');
  });

  it('refuses a payload that is not the one signed, and a rollout before the payload', async () => {
    const bytes = readFileSync(releases[0]!.payloadFile);
    const tampered = Buffer.from(bytes);
    tampered[100]! ^= 1;
    const refused = await upload('1.1.0', tampered);
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toMatch(/does not match its manifest/);
    expect((await upload('1.1.0', Buffer.concat([bytes, Buffer.from('x')]))).status).toBe(413);
    const early = await admin('POST', '/releases/1.1.0/rollouts', { channel: 'stable' });
    expect(early.json.error.code).toBe('E-RELEASE-NOT-READY');
    expect((await upload('1.1.0', bytes)).json).toMatchObject({ status: 'ready', size: bytes.length });
  });

  it('offers a channel its release, a staged share of another channel the next, a device its own', async () => {
    const [pilot, ...stable] = devices;
    expect((await admin('PUT', `/devices/${pilot!.id}/channel`, { channel: 'pilot' })).json.channel).toBe(
      'pilot',
    );
    expect(await heartbeat(pilot!)).toBeUndefined();

    expect((await admin('POST', '/releases/1.1.0/rollouts', { channel: 'pilot' })).status).toBe(201);
    expect((await heartbeat(pilot!))?.version).toBe('1.1.0');
    for (const device of stable) expect(await heartbeat(device)).toBeUndefined();

    await register(releases[1]!);
    await upload('1.2.0', readFileSync(releases[1]!.payloadFile));
    await admin('POST', '/releases/1.1.0/rollouts', { channel: 'stable', percent: 100 });
    await admin('POST', '/releases/1.2.0/rollouts', { channel: 'stable', percent: 50 });
    for (const device of stable) {
      // Left out of the staged share: the box keeps the release rolled out before.
      const expected = inShare(device.id, { version: '1.2.0', percent: 50 }) ? '1.2.0' : '1.1.0';
      expect((await heartbeat(device))?.version).toBe(expected);
    }
    await admin('POST', '/releases/1.2.0/rollouts', { device: stable[0]!.id });
    expect((await heartbeat(stable[0]!))?.version).toBe('1.2.0');
    await admin('POST', '/releases/1.2.0/rollouts', { channel: 'stable', percent: 100 });
    for (const device of stable) expect((await heartbeat(device))?.version).toBe('1.2.0');
    expect(
      (await admin('POST', '/releases/1.2.0/rollouts', { channel: 'stable', centre: 'jx-ruijin' })).status,
    ).toBe(400);
  });

  it('serves the offered payload whole or from a byte on, to its own device only', async () => {
    const device = devices[1]!;
    const offer = (await heartbeat(device))!;
    const bytes = readFileSync(releases[1]!.payloadFile);
    const whole = await download(device, offer.payloadPath);
    expect(whole.status).toBe(200);
    expect(whole.bytes.equals(bytes)).toBe(true);

    const half = bytes.length >> 1;
    const rest = await download(device, offer.payloadPath, `bytes=${half}-`);
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(`bytes ${half}-${bytes.length - 1}/${bytes.length}`);
    expect(rest.bytes.equals(bytes.subarray(half))).toBe(true);
    expect((await download(device, offer.payloadPath, `bytes=${bytes.length}-`)).status).toBe(416);

    const notOffered = offer.payloadPath.replace('1.2.0', '1.1.0');
    expect((await download(device, notOffered)).status).toBe(404);
    const other = devices[2]!;
    const res = await api(
      'GET',
      offer.payloadPath,
      undefined,
      signedHeaders(other.key, 'GET', offer.payloadPath, '', { as: other.id }),
    );
    expect(res.status).toBe(403);
  });

  it('keeps what the box reports about its update', async () => {
    const device = devices[1]!;
    await heartbeat(device, {
      state: 'rolled-back',
      version: '1.2.0',
      code: 'E-UPDATE-UNHEALTHY',
      detail: 'not healthy in 300 s',
    });
    expect((await admin('GET', `/devices/${device.id}/update`)).json).toMatchObject({
      channel: 'stable',
      targetVersion: '1.2.0',
      report: { state: 'rolled-back', version: '1.2.0', code: 'E-UPDATE-UNHEALTHY' },
    });
    expect((await admin('GET', `/devices/${device.id}`)).json).toMatchObject({
      channel: 'stable',
      update: { state: 'rolled-back', version: '1.2.0' },
    });
  });

  it('offers a rollout without reading rollouts or releases per heartbeat, and sees one made on another replica', async () => {
    const repo = server.app.get(ReleasesRepository);
    const stable = devices.slice(1);
    // Every box is under a rollout by now (1.2.0 to the whole stable channel); warm the server up.
    for (const device of stable) expect((await heartbeat(device))?.version).toBe('1.2.0');
    const reads = [
      vi.spyOn(repo, 'listRollouts'),
      vi.spyOn(repo, 'rolloutsFor'),
      vi.spyOn(repo, 'findRelease'),
    ];
    try {
      for (let round = 0; round < 3; round++) {
        for (const device of stable) expect((await heartbeat(device))?.version).toBe('1.2.0');
      }
      expect(reads.map((r) => r.mock.calls.length)).toEqual([0, 0, 0]);

      // A rollout made through another replica of the same database: the next heartbeat here offers it.
      const replica = await startFleetServer({
        db: location,
        port: 0,
        host: '127.0.0.1',
        releasesDir: join(dir, 'payloads'),
        trustedReleaseKeys: [trustedKey],
      });
      try {
        const res = await fetch(`${replica.url}/api/v1/admin/releases/1.1.0/rollouts`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ device: stable[1]!.id }),
        });
        expect(res.status).toBe(201);
      } finally {
        await replica.stop();
      }
      expect((await heartbeat(stable[1]!))?.version).toBe('1.1.0');
      expect((await heartbeat(stable[2]!))?.version).toBe('1.2.0');
      // The new rollout cost one read of the list, shared by every heartbeat after it.
      expect(reads[0]!.mock.calls.length).toBe(1);
    } finally {
      for (const read of reads) read.mockRestore();
    }
  });
});
