import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFleetServer, type RunningFleetServer } from '../../../provisioning/fleet-server.js';
import type { Overview, OverviewGroups } from '../../../provisioning/protocol/overview-api.schema.js';
import { generateAdminToken } from '../../../provisioning/services/admin-auth.service.js';
import { seedFleet, type SeededBox, type SeededFleet } from '../../helpers/fleet-seed.js';
import { newTestDevice } from '../../helpers/fleet.js';
import { fleetDatabases } from '../../helpers/fleet-databases.js';
import { describeEach } from '../../helpers/requirements.js';

const ADMIN = generateAdminToken();

const databases = fleetDatabases('overview');

/** The overview API over a national fleet: 1,000 centres, 10,000 boxes, on SQLite and PostgreSQL. */
describeEach(databases)('fleet overview on $name', (database) => {
  let server: RunningFleetServer;
  let location: string;
  let fleet: SeededFleet;

  const get = async (query: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}/api/v1/admin/overview${query}`, {
      headers: { authorization: `Bearer ${ADMIN}`, ...headers },
    });
    const text = await response.text();
    return {
      status: response.status,
      etag: response.headers.get('etag'),
      bytes: text.length,
      body: (text ? JSON.parse(text) : undefined) as Overview & { error?: { message: string } },
    };
  };
  const ids = (overview: Overview) => overview.rows.map((r) => r.id);
  const sortedIds = (boxes: SeededBox[]) => boxes.map((b) => b.id).sort();

  beforeAll(async () => {
    location = await database.location();
    server = await startFleetServer({
      db: location,
      port: 0,
      host: '127.0.0.1',
      firstAdminToken: ADMIN,
      // Seeding takes a while on a busy machine: boxes seen within the last minute must stay online.
      offlineAfterSec: 1800,
    });
    fleet = await seedFleet(server.db, {
      centres: 1000,
      perCentre: 10,
      now: new Date(),
      publicKeyPem: newTestDevice().publicKeyPem,
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    if (location) database.remove(location);
  });

  it('sends one page and the whole fleet counts, not 10,000 rows', async () => {
    const { status, body, bytes } = await get('?pageSize=50');
    expect(status).toBe(200);
    expect(body.total).toBe(10_000);
    expect(body.pages).toBe(200);
    expect(body.rows).toHaveLength(50);
    expect(body.summary).toEqual({
      centres: 1000,
      boxes: 10_000,
      online: fleet.boxes.filter((b) => b.online).length,
      inClass: fleet.boxes.filter((b) => b.inClass).length,
      attention: fleet.boxes.filter((b) => !b.online || b.problem || b.updateFailed).length,
    });
    const jiangxi = fleet.boxes.filter((b) => b.region === '江西');
    expect(body.regions.find((r) => r.region === '江西')).toEqual({
      region: '江西',
      centres: 100,
      boxes: jiangxi.length,
      online: jiangxi.filter((b) => b.online).length,
      inClass: jiangxi.filter((b) => b.inClass).length,
      attention: jiangxi.filter((b) => !b.online || b.problem || b.updateFailed).length,
    });
    expect(body.versions).toEqual(['1.0.0', '1.1.0', '1.2.0']);
    // The old dashboard fetched 2.7 MB per refresh at this size.
    expect(bytes).toBeLessThan(100_000);
  });

  it('pages through a filter without overlap or gaps', async () => {
    const expected = sortedIds(fleet.boxes.filter((b) => b.problem && b.region === '福建'));
    const seen: string[] = [];
    for (let page = 1; ; page++) {
      const { body } = await get(
        `?status=problem&region=${encodeURIComponent('福建')}&sort=box&pageSize=37&page=${page}`,
      );
      expect(body.total).toBe(expected.length);
      seen.push(...ids(body));
      if (page >= body.pages) break;
    }
    expect(seen).toEqual(expected);
  });

  it('filters offline, in class, update failed and by version', async () => {
    for (const [query, pick] of [
      ['status=offline', (b: SeededBox) => !b.online],
      ['status=online', (b: SeededBox) => b.online],
      ['status=in-class', (b: SeededBox) => b.inClass],
      ['status=update-failed', (b: SeededBox) => b.updateFailed],
      ['version=1.2.0', (b: SeededBox) => b.version === '1.2.0'],
    ] as const) {
      const { body } = await get(`?${query}&pageSize=200&sort=box`);
      const expected = sortedIds(fleet.boxes.filter(pick));
      expect(body.total, query).toBe(expected.length);
      expect(ids(body), query).toEqual(expected.slice(0, 200));
    }
  });

  it('searches box ids, names, centres and regions, case-insensitively, with % taken literally', async () => {
    expect(ids((await get('?q=C0042-0&sort=box')).body)).toEqual(
      sortedIds(fleet.boxes.filter((b) => b.id.startsWith('c0042-0'))),
    );
    const centre = fleet.centres[123]!;
    const byName = (await get(`?q=${encodeURIComponent(centre.name)}&sort=box`)).body;
    expect(ids(byName)).toEqual(sortedIds(fleet.boxes.filter((b) => b.centreName.includes(centre.name))));
    expect((await get(`?q=${encodeURIComponent('湖南')}`)).body.total).toBe(
      fleet.boxes.filter((b) => b.region === '湖南').length,
    );
    expect((await get('?q=%25')).body.total).toBe(0);
  });

  it('sorts by status with trouble first, and descending by box', async () => {
    const { body } = await get('?sort=status&pageSize=20');
    expect(body.rows.every((r) => !r.online)).toBe(true);
    const desc = await get('?sort=box&dir=desc&pageSize=3');
    expect(ids(desc.body)).toEqual(sortedIds(fleet.boxes).reverse().slice(0, 3));
  });

  it('groups the fleet by region, and a region by centre, with what each needs (issue 18)', async () => {
    const countsOf = (boxes: SeededBox[]) => ({
      boxes: boxes.length,
      online: boxes.filter((b) => b.online).length,
      inClass: boxes.filter((b) => b.inClass).length,
      offline: boxes.filter((b) => !b.online).length,
      problem: boxes.filter((b) => b.problem).length,
      updateFailed: boxes.filter((b) => b.updateFailed).length,
      attention: boxes.filter((b) => !b.online || b.problem || b.updateFailed).length,
    });
    const regions = (await get('/groups')).body as unknown as OverviewGroups;
    expect(regions.region).toBeUndefined();
    expect(regions.groups.map((g) => g.id)).toEqual([...new Set(fleet.centres.map((c) => c.region))].sort());
    for (const group of regions.groups) {
      expect(group, group.id).toEqual({
        id: group.id,
        name: group.id,
        centres: fleet.centres.filter((c) => c.region === group.id).length,
        ...countsOf(fleet.boxes.filter((b) => b.region === group.id)),
      });
    }
    const { status, body } = await get(`/groups?region=${encodeURIComponent('江西')}`);
    expect(status).toBe(200);
    const centres = body as unknown as OverviewGroups;
    expect(centres.region).toBe('江西');
    const jiangxi = fleet.centres.filter((c) => c.region === '江西');
    expect(centres.groups.map((g) => g.id).sort()).toEqual(jiangxi.map((c) => c.id).sort());
    for (const group of centres.groups) {
      const centre = jiangxi.find((c) => c.id === group.id)!;
      expect(group).toEqual({
        id: centre.id,
        name: centre.name,
        centres: 1,
        ...countsOf(fleet.boxes.filter((b) => b.centreId === centre.id)),
      });
    }
    const bad = await get('/groups?region=&colour=red');
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/region/);
    expect(bad.body.error?.message).toMatch(/colour/);
  });

  it('answers an unchanged page with a bodiless 304', async () => {
    const first = await get('?status=offline&pageSize=50');
    expect(first.etag).toMatch(/^"/);
    const again = await get('?status=offline&pageSize=50', { 'if-none-match': first.etag! });
    expect(again.status).toBe(304);
    expect(again.bytes).toBe(0);
    // A box coming back online changes the offline page: the refresh gets the new body.
    const comeback = first.body.rows[0]!.id;
    await server.db
      .updateTable('devices')
      .set({ last_seen_at: new Date().toISOString() })
      .where('id', '=', comeback)
      .execute();
    const changed = await get('?status=offline&pageSize=50', { 'if-none-match': first.etag! });
    expect(changed.status).toBe(200);
    expect(ids(changed.body)).not.toContain(comeback);
  });

  it('refuses a bad query naming the field', async () => {
    const { status, body } = await get('?status=sleeping&pageSize=5000');
    expect(status).toBe(400);
    expect(body.error?.message).toMatch(/status/);
    expect(body.error?.message).toMatch(/pageSize/);
    const unknown = await get('?colour=red');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.message).toMatch(/colour/);
  });
});
