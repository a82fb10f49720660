import { afterAll, beforeAll, expect, it } from 'vitest';
import { openFleetDatabase } from '../../../provisioning/db/database.js';
import { startFleetServer, type RunningFleetServer } from '../../../provisioning/fleet-server.js';
import type { DeviceHistory, FleetHistory } from '../../../provisioning/protocol/history-api.schema.js';
import { generateAdminToken } from '../../../provisioning/services/admin-auth.service.js';
import { FleetClock } from '../../../provisioning/services/fleet-options.js';
import { HistoryService } from '../../../provisioning/services/history.service.js';
import { seedFleet } from '../../helpers/fleet-seed.js';
import { newTestDevice, signedHeaders } from '../../helpers/fleet.js';
import { fleetDatabases } from '../../helpers/fleet-databases.js';
import { describeEach } from '../../helpers/requirements.js';

const ADMIN = generateAdminToken();
const DAY_MS = 86_400_000;

/** Server time the test moves forward (roll-up, retention) without waiting; the box signs with it too. */
class SteppedClock extends FleetClock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

const databases = fleetDatabases('history');

/** Vitals from signed heartbeats into per-minute history, rolled up per hour and pruned (issue 18). */
describeEach(databases)('vitals history on $name', (database) => {
  const clock = new SteppedClock();
  const device = newTestDevice();
  const id = 'c0000-01';
  let server: RunningFleetServer;
  let location: string;

  const admin = async <T>(path: string) => {
    const response = await fetch(`${server.url}/api/v1/admin${path}`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    return { status: response.status, body: (await response.json()) as T & { error?: { message: string } } };
  };
  const beat = async (vitals: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const path = `/api/v1/devices/${id}/heartbeat`;
    const body = JSON.stringify({
      state: vitals.state ?? 'idle',
      health: { camera: { status: 'ok' } },
      version: '1.0.0',
      uptimeSec: 60,
      network: {},
      vitals,
      ...extra,
    });
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: signedHeaders(device, 'POST', path, body, { as: id, timestampMs: clock.now().getTime() }),
      body,
    });
    expect(response.status, await response.text()).toBe(200);
  };

  beforeAll(async () => {
    // The first heartbeats land one second into a minute: all three in the same bucket.
    clock.offsetMs = Math.ceil(Date.now() / 60_000) * 60_000 + 1000 - Date.now();
    location = await database.location();
    server = await startFleetServer({
      db: location,
      port: 0,
      host: '127.0.0.1',
      firstAdminToken: ADMIN,
      clock,
    });
    await seedFleet(server.db, {
      centres: 2,
      perCentre: 2,
      now: clock.now(),
      publicKeyPem: device.publicKeyPem,
    });
  });

  afterAll(async () => {
    await server?.stop();
    if (location) database.remove(location);
  });

  it('keeps each minute of a box: averages, maximum, class time, audio only', async () => {
    await beat({ state: 'live', cpuTemperatureC: 50, uplinkKbps: 400, rttMs: 30, audioOnly: false });
    await beat({ state: 'live', cpuTemperatureC: 60, uplinkKbps: 200, rttMs: 50, audioOnly: true });
    // An older box: no vitals object, its temperature and RTT where they always were.
    await beat({}, { vitals: undefined, state: 'idle', temperatureC: 55, network: { rttMs: 40 } });
    const { status, body } = await admin<DeviceHistory>(`/devices/${id}/history?range=24h`);
    expect(status).toBe(200);
    expect(body.bucketSec).toBe(60);
    expect(body.beats).toEqual([3]);
    expect(body.t).toEqual([Math.floor(clock.now().getTime() / 60_000) * 60]);
    expect(body.temperatureC).toEqual([55]);
    expect(body.temperatureMaxC).toEqual([60]);
    expect(body.uplinkKbps).toEqual([300]);
    expect(body.rttMs).toEqual([40]);
    expect(body.inClass).toEqual([1]);
    expect(body.audioOnly).toEqual([1]);
    // Loss was never sent: no figure, not a zero.
    expect(body.lossPercent).toEqual([null]);
    expect(body.sessions).toHaveLength(1);
  });

  it('rolls minutes up into hours for the 7-day view, and again without counting twice', async () => {
    const history = server.app.get(HistoryService);
    await history.maintain();
    await history.maintain();
    const { body } = await admin<DeviceHistory>(`/devices/${id}/history?range=7d`);
    expect(body.bucketSec).toBe(3600);
    expect(body.beats.reduce((a, b) => a + b, 0)).toBe(3);
    expect(body.temperatureMaxC.at(-1)).toBe(60);
    expect(body.sessions).toHaveLength(1);
  });

  it('draws the fleet: boxes heard per hour, class hours by region and by centre', async () => {
    const { body } = await admin<FleetHistory>('/history/fleet?days=7');
    expect(body.dayLabels).toHaveLength(7);
    expect(body.online.boxes.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    const region = body.classHours.find((g) => g.hours.some((h) => h > 0));
    expect(region?.id).toBe('江西');
    const byCentre = await admin<FleetHistory>(`/history/fleet?days=7&region=${encodeURIComponent('江西')}`);
    expect(byCentre.body.classHours.map((g) => g.id)).toEqual(['c0000']);
  });

  it('counts boxes with a failed update per day', async () => {
    await beat(
      { state: 'idle' },
      { update: { state: 'failed', version: '1.3.0', code: 'E-UPDATE-UNHEALTHY' } },
    );
    await server.app.get(HistoryService).maintain();
    const { body } = await admin<FleetHistory>('/history/fleet?days=7');
    expect(body.updateFailures.at(-1)).toBe(1);
  });

  it('prunes minutes after 7 days and hours after 180 days', async () => {
    const history = server.app.get(HistoryService);
    const start = clock.offsetMs;
    clock.offsetMs = start + 8 * DAY_MS;
    await history.maintain();
    expect((await admin<DeviceHistory>(`/devices/${id}/history?range=24h`)).body.t).toEqual([]);
    const rows = await server.db.selectFrom('device_vitals_hour').select('at').execute();
    expect(rows.length).toBeGreaterThan(0);
    clock.offsetMs = start + 181 * DAY_MS;
    await history.maintain();
    expect(await server.db.selectFrom('device_vitals_hour').select('at').execute()).toEqual([]);
  });

  it('refuses a bad range naming it, and an unknown box', async () => {
    const bad = await admin<unknown>(`/devices/${id}/history?range=1y`);
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/range/);
    expect((await admin<unknown>('/devices/nobody-01/history')).status).toBe(404);
  });

  it('writes the minutes still held in memory when the server stops', async () => {
    await beat({ state: 'live', cpuTemperatureC: 70 });
    const minute = new Date(Math.floor(clock.now().getTime() / 60_000) * 60_000).toISOString();
    await server.stop();
    const db = await openFleetDatabase(location);
    try {
      const rows = await db
        .selectFrom('device_vitals_minute')
        .select(['beats', 'temp_max'])
        .where('device_id', '=', id)
        .where('at', '=', minute)
        .execute();
      expect(rows.map((r) => [Number(r.beats), Number(r.temp_max)])).toEqual([[1, 70]]);
    } finally {
      await db.destroy();
    }
  });
});
