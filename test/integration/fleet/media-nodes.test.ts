import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { main } from '../../../cli/classbox.js';
import { classPlacementSchema, desiredConfigSchema } from '../../../common/fleet-protocol.js';
import { JanusServer } from '../../../device/demo/janus-server.js';
import { HttpMediaNodeAdmin } from '../../../provisioning/adapters/media-node-admin.http.js';
import { startFleetServer, type RunningFleetServer } from '../../../provisioning/fleet-server.js';
import { generateAdminToken } from '../../../provisioning/services/admin-auth.service.js';
import { newTestDevice, signedHeaders, type TestDevice } from '../../helpers/fleet.js';
import { fleetDatabases } from '../../helpers/fleet-databases.js';
import { freePort } from '../../helpers/ports.js';
import { describeEach } from '../../helpers/requirements.js';
import { waitFor } from '../../helpers/browser.js';

const ADMIN = generateAdminToken();
const SECRET = 'node-admin-secret';
const admin = new HttpMediaNodeAdmin();

/**
 * Media nodes (issue 19) against real Janus servers, each in its own network namespace with its admin
 * API on: the fleet checks them, places classes and creates their rooms there, tells boxes where their
 * class is, and moves a class within seconds when its node dies.
 */
describeEach(fleetDatabases('media-nodes'))('media nodes on $name', (database) => {
  let location: string;
  let server: RunningFleetServer;
  const janus: JanusServer[] = [];

  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, json: (text ? JSON.parse(text) : undefined) as any };
  };
  const asAdmin = (method: string, path: string, body?: unknown) =>
    api(method, `/api/v1/admin${path}`, body, { authorization: `Bearer ${ADMIN}` });
  const asDevice = (device: TestDevice, id: string, path: string) =>
    api(
      'GET',
      `/api/v1/devices/${id}${path}`,
      undefined,
      signedHeaders(device, 'GET', `/api/v1/devices/${id}${path}`, '', { as: id }),
    );
  const node = async (id: string) => (await asAdmin('GET', `/media-nodes/${id}`)).json;
  const roomsOn = async (j: JanusServer) =>
    (await admin.load({ adminUrl: j.adminUrl!, adminSecret: SECRET })).rooms.map((r) => r.room);
  /** The room as the node's own VideoRoom lists it (its recording settings). */
  const roomInfo = async (j: JanusServer, room: number) => {
    const response = await fetch(j.adminUrl!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        janus: 'message_plugin',
        plugin: 'janus.plugin.videoroom',
        request: { request: 'list' },
        transaction: 'list-rooms',
        admin_secret: SECRET,
      }),
    });
    const answer = (await response.json()) as {
      response: { list: { room: number; record: boolean; rec_dir?: string }[] };
    };
    return answer.response.list.find((r) => r.room === room);
  };
  /** node-0's recordings folder (issue 21): its class rooms record the teacher there. */
  const recordings = mkdtempSync(join(tmpdir(), 'classbox-node-recordings-'));

  /** A centre and one enrolled box of it. */
  const centreWithBox = async (id: string, room: number, region = '江西') => {
    expect(
      (
        await asAdmin('POST', '/centres', {
          id,
          name: `${id} 教学点`,
          region,
          room: { janusUrl: 'ws://unused.example.cn:8188', room, pin: 'room-pin' },
        })
      ).status,
    ).toBe(201);
    const minted = await asAdmin('POST', `/centres/${id}/enrolment-tokens`, {
      count: 1,
      expiresInSeconds: 3600,
    });
    const device = newTestDevice();
    const enrolled = await api('POST', '/api/v1/enrol', {
      token: minted.json.tokens[0].token,
      publicKey: device.publicKeyPem,
    });
    expect(enrolled.status).toBe(201);
    return { device, deviceId: enrolled.json.deviceId as string };
  };
  const placementOf = async (box: { device: TestDevice; deviceId: string }) => {
    const res = await asDevice(box.device, box.deviceId, '/placement');
    return res.status === 200 ? classPlacementSchema.parse(res.json) : undefined;
  };

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const j = new JanusServer({
        rooms: [],
        wsPort: await freePort(),
        admin: { port: await freePort(), secret: SECRET },
      });
      janus.push(j);
      await j.start();
    }
    location = await database.location();
    server = await startFleetServer({ db: location, port: 0, host: '127.0.0.1', firstAdminToken: ADMIN });
  });

  afterAll(async () => {
    await server?.stop();
    for (const j of janus) await j.stop();
    if (location) database.remove(location);
    rmSync(recordings, { recursive: true, force: true });
  });

  it('registers nodes with a write-only secret and refuses a bad one naming the field', async () => {
    const bad = await asAdmin('POST', '/media-nodes', {
      id: 'jx-1',
      wsUrl: 'http://not-a-websocket',
      adminUrl: janus[0]!.adminUrl,
      region: '江西',
      capacity: 0,
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.join('\n')).toMatch(/wsUrl.*ws:\/\//);
    expect(bad.json.error.details.join('\n')).toMatch(/capacity/);
    const relative = await asAdmin('POST', '/media-nodes', {
      id: 'jx-1',
      wsUrl: janus[0]!.url,
      adminUrl: janus[0]!.adminUrl,
      region: '江西',
      capacity: 1,
      recordingsDir: 'recordings',
    });
    expect(relative.status).toBe(400);
    expect(relative.json.error.details.join('\n')).toMatch(/recordingsDir.*absolute folder/);
    const regions = ['江西', '江西', '福建'];
    for (const [i, j] of janus.entries()) {
      const res = await asAdmin('POST', '/media-nodes', {
        id: `node-${i}`,
        wsUrl: j.url,
        adminUrl: j.adminUrl,
        adminSecret: SECRET,
        region: regions[i],
        capacity: 5,
        ...(i === 0 ? { recordingsDir: recordings } : {}),
      });
      expect(res.status).toBe(201);
      expect(res.json.recordingsDir).toBe(i === 0 ? recordings : null);
      expect(JSON.stringify(res.json)).not.toContain(SECRET);
      expect(res.json.adminSecretSet).toBe(true);
    }
    expect(
      (
        await asAdmin('POST', '/media-nodes', {
          id: 'node-0',
          wsUrl: janus[0]!.url,
          adminUrl: janus[0]!.adminUrl,
          region: 'x',
          capacity: 1,
        })
      ).status,
    ).toBe(409);
    const listed = await asAdmin('GET', '/media-nodes');
    expect(JSON.stringify(listed.json)).not.toContain(SECRET);
  });

  it('checks every node and shows it up with its load', async () => {
    await waitFor(
      async () =>
        (await asAdmin('GET', '/media-nodes')).json.every((n: { status: string }) => n.status === 'up'),
      10_000,
      'every node up',
    );
    const n0 = await node('node-0');
    expect(n0.sessions).toBe(0);
    expect(n0.checkedAt).not.toBeNull();
  });

  let ruijin: Awaited<ReturnType<typeof centreWithBox>>;
  let yudu: Awaited<ReturnType<typeof centreWithBox>>;
  let guest: Awaited<ReturnType<typeof centreWithBox>>;

  it('places a class on the least loaded node of its region, creates its room there, and tells the box', async () => {
    ruijin = await centreWithBox('jx-ruijin', 3101);
    await waitFor(async () => (await placementOf(ruijin)) !== undefined, 10_000, 'the class placed');
    const placed = (await placementOf(ruijin))!;
    // Two nodes in 江西, both empty: the first by id; its fallback the other 江西 node, then 福建's.
    expect(placed).toEqual({ url: janus[0]!.url, room: 3101, fallbackUrls: [janus[1]!.url, janus[2]!.url] });
    expect(await roomsOn(janus[0]!)).toContain(3101);
    // Recorded where the node keeps recordings, per class (the centres themselves are not: record off).
    expect(await roomInfo(janus[0]!, 3101)).toMatchObject({
      record: false,
      rec_dir: join(recordings, 'room-3101'),
    });
    await waitFor(
      async () => (await roomsOn(janus[1]!)).includes(3101),
      10_000,
      'the room on the fallback node',
    );
    // A node with no recordings folder makes rooms that record nothing.
    expect((await roomInfo(janus[1]!, 3101))?.rec_dir).toBeUndefined();
    const config = desiredConfigSchema.parse(
      (await asDevice(ruijin.device, ruijin.deviceId, '/config')).json,
    );
    expect(config.janus).toMatchObject({
      url: janus[0]!.url,
      room: 3101,
      pin: 'room-pin',
      fallbackUrls: [janus[1]!.url, janus[2]!.url],
    });

    // The next class of 江西 goes to the other 江西 node, now the less loaded one.
    yudu = await centreWithBox('jx-yudu', 3102);
    await waitFor(async () => (await placementOf(yudu)) !== undefined, 10_000, 'the second class placed');
    expect((await placementOf(yudu))!.url).toBe(janus[1]!.url);
    const teacher = await asAdmin('GET', '/classes/jx-yudu/placement');
    expect(teacher.json).toMatchObject({
      classId: 'jx-yudu',
      room: 3102,
      node: { id: 'node-1', wsUrl: janus[1]!.url },
    });
    expect((await node('node-0')).classes).toBe(1);

    // IT gives a class another room number: the fleet makes that room on its node.
    expect(
      (
        await asAdmin('PATCH', '/centres/jx-yudu', {
          room: { janusUrl: 'ws://unused.example.cn:8188', room: 3104 },
        })
      ).status,
    ).toBe(200);
    await waitFor(async () => (await roomsOn(janus[1]!)).includes(3104), 10_000, 'the new room on its node');
    expect((await placementOf(yudu))!.room).toBe(3104);

    // A centre with the same room number joins that lecture: on its node, with its fallbacks.
    guest = await centreWithBox('jx-xingguo', 3101);
    await waitFor(async () => (await placementOf(guest)) !== undefined, 10_000, 'the lecture guest placed');
    expect(await placementOf(guest)).toEqual(await placementOf(ruijin));
  });

  it('moves the classes of a dead node to their first fallback within seconds, and uses the node again once it is back', async () => {
    const killedAt = Date.now();
    await janus[0]!.stopProcess('SIGKILL');
    await waitFor(
      async () => (await placementOf(ruijin))?.url === janus[1]!.url,
      10_000,
      'the class moved off the dead node',
    );
    const movedAfterMs = Date.now() - killedAt;
    expect(movedAfterMs).toBeLessThan(8_000);
    expect((await node('node-0')).status).toBe('down');
    expect((await node('node-0')).error).toMatch(/E-NODE-UNREACHABLE/);
    const moved = (await placementOf(ruijin))!;
    expect(moved.fallbackUrls).toEqual([janus[2]!.url]);
    // The lecture moves as one.
    await waitFor(
      async () => (await placementOf(guest))?.url === janus[1]!.url,
      5_000,
      'the lecture guest moved',
    );
    expect(await roomsOn(janus[1]!)).toEqual(expect.arrayContaining([3101, 3104]));
    // The box's config follows too (its next heartbeat sees a new ETag).
    const config = desiredConfigSchema.parse(
      (await asDevice(ruijin.device, ruijin.deviceId, '/config')).json,
    );
    expect(config.janus?.url).toBe(janus[1]!.url);

    await janus[0]!.start();
    await waitFor(async () => (await node('node-0')).status === 'up', 10_000, 'the node up again');
    // Empty again, it is the least loaded node of 江西: the next class goes there.
    const ganzhou = await centreWithBox('jx-ganzhou', 3103);
    await waitFor(async () => (await placementOf(ganzhou)) !== undefined, 10_000, 'the new class placed');
    expect((await placementOf(ganzhou))!.url).toBe(janus[0]!.url);
    expect(await roomsOn(janus[0]!)).toContain(3103);
  });

  it('moves the classes of a removed node first, and refuses when nowhere can take them', async () => {
    expect((await asAdmin('DELETE', '/media-nodes/node-1')).status).toBe(204);
    const ruijinNow = (await placementOf(ruijin))!;
    expect(ruijinNow.url).toBe(janus[2]!.url);
    expect([ruijinNow.url, ...ruijinNow.fallbackUrls]).not.toContain(janus[1]!.url);
    expect((await placementOf(yudu))!.url).not.toBe(janus[1]!.url);
    expect((await placementOf(guest))!.url).toBe(janus[2]!.url);
    await janus[0]!.stopProcess('SIGKILL');
    await waitFor(async () => (await node('node-0')).status === 'down', 10_000, 'node-0 down');
    const refused = await asAdmin('DELETE', '/media-nodes/node-2');
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('E-NODE-IN-USE');
    expect((await node('node-2')).id).toBe('node-2');
  });

  it('is managed with the CLI too, naming a bad value and never printing the secret', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const stdout = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk) => out.push(String(chunk)) > 0);
    const stderr = vi
      .spyOn(process.stderr, 'write')
      .mockImplementation((chunk) => err.push(String(chunk)) > 0);
    // A closed port on this machine: the node is registered, never up.
    const closed = await freePort();
    const node = (...args: string[]) => main(['fleet', 'node', ...args, '--db', location]);
    const add = (...args: string[]) =>
      node(
        'add',
        '--id',
        'cli-1',
        '--region',
        '江西',
        '--capacity',
        '3',
        '--admin-url',
        `http://127.0.0.1:${closed}/admin`,
        ...args,
      );
    try {
      expect(await add('--ws-url', 'http://127.0.0.1:1')).toBe(2);
      expect(err.join('')).toMatch(/wsUrl: expected a ws:\/\/ or wss:\/\/ URL/);
      process.exitCode = undefined;
      expect(
        await add('--ws-url', `ws://127.0.0.1:${closed}`, '--admin-secret-env', 'CLASSBOX_TEST_UNSET'),
      ).toBe(2);
      expect(err.join('')).toMatch(/CLASSBOX_TEST_UNSET is not set/);
      process.exitCode = undefined;
      process.env.CLASSBOX_TEST_NODE_SECRET = 'cli-node-secret';
      expect(
        await add('--ws-url', `ws://127.0.0.1:${closed}`, '--admin-secret-env', 'CLASSBOX_TEST_NODE_SECRET'),
      ).toBe(0);
      expect((await node('list')) + (await node('list', '--json'))).toBe(0);
      expect(out.join('')).toMatch(/^cli-1\t\w+\t江西\t0\/3 classes/m);
      expect(out.join('')).not.toContain('cli-node-secret');
      expect((await asAdmin('GET', '/media-nodes/cli-1')).json.adminSecretSet).toBe(true);
      expect(await node('remove', '--id', 'cli-1')).toBe(0);
      expect((await asAdmin('GET', '/media-nodes/cli-1')).status).toBe(404);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      process.exitCode = undefined;
      delete process.env.CLASSBOX_TEST_NODE_SECRET;
    }
  });
});
