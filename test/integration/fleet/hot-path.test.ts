import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFleetStore, type FleetStore } from '../../../provisioning/db/database.js';
import { PostgresDeviceHotPath } from '../../../provisioning/repositories/device-hot-path.postgres.js';
import type {
  DeviceHotPathRepository,
  SignedHeartbeat,
} from '../../../provisioning/repositories/device-hot-path.repository.js';
import { SqliteDeviceHotPath } from '../../../provisioning/repositories/device-hot-path.sqlite.js';
import { seedFleet } from '../../helpers/fleet-seed.js';
import { newTestDevice } from '../../helpers/fleet.js';
import { postgresBinDir, startPostgres, type TestPostgres } from '../../helpers/postgres.js';

let postgres: TestPostgres | undefined;
const databases: { name: string; location: () => Promise<string> }[] = [
  { name: 'SQLite', location: async () => join(mkdtempSync(join(tmpdir(), 'classbox-hot-')), 'fleet.db') },
];
if (postgresBinDir()) {
  databases.push({
    name: 'PostgreSQL',
    location: async () => {
      postgres ??= await startPostgres();
      return postgres.createDatabase(`fleet_hot_${Date.now()}`);
    },
  });
}

afterAll(async () => {
  await postgres?.stop();
});

/**
 * Issue 17: a heartbeat's nonce and its device update are one write (one transaction per batch), and
 * still nothing replayed is applied and a device shows its latest heartbeat.
 */
describe.each(databases)('heartbeat write on $name', (database) => {
  let store: FleetStore;
  let hotPath: DeviceHotPathRepository;
  let location: string;
  const now = new Date('2026-11-30T10:00:00.000Z');
  let box: string;

  const signed = (nonce: string, signedAtMs: number, state: string, deviceId = box): SignedHeartbeat => ({
    nonce: { deviceId, nonce, seenAt: now.toISOString() },
    beat: {
      deviceId,
      signedAtMs,
      seenAt: now.toISOString(),
      state,
      errorCode: null,
      healthJson: '{}',
      version: '1.0.0',
      vitalsJson: '{}',
    },
  });
  const stateOf = async (id = box) =>
    (await store.db.selectFrom('devices').select('state').where('id', '=', id).executeTakeFirstOrThrow())
      .state;

  beforeAll(async () => {
    location = await database.location();
    store = await openFleetStore(location);
    const fleet = await seedFleet(store.db, {
      centres: 1,
      perCentre: 2,
      now,
      publicKeyPem: newTestDevice().publicKeyPem,
    });
    box = fleet.boxes[0]!.id;
    hotPath =
      store.raw.kind === 'sqlite'
        ? new SqliteDeviceHotPath(store.db, store.raw.sqlite)
        : new PostgresDeviceHotPath(store.raw.pool);
  });

  afterAll(async () => {
    await store?.db.destroy();
    if (!location.startsWith('postgres')) rmSync(join(location, '..'), { recursive: true, force: true });
  });

  it('stores a batch with its nonces; a replay in it, or of an earlier batch, is refused and not applied', async () => {
    const t = now.getTime();
    expect(
      await hotPath.saveHeartbeats([
        signed('nonce-aaaaaaaaaaaaaaaa', t + 1, 'idle'),
        // The same nonce again, carrying a newer state: a replay, so it must not show.
        signed('nonce-aaaaaaaaaaaaaaaa', t + 5, 'error'),
        signed('nonce-bbbbbbbbbbbbbbbb', t + 2, 'joining'),
      ]),
    ).toEqual([true, false, true]);
    expect(await stateOf()).toBe('joining');
    expect(await hotPath.saveHeartbeats([signed('nonce-bbbbbbbbbbbbbbbb', t + 9, 'live')])).toEqual([false]);
    expect(await stateOf()).toBe('joining');
  });

  it("shows each device's latest heartbeat, whatever the order in the batch", async () => {
    const t = now.getTime() + 60_000;
    const other = (await store.db.selectFrom('devices').select('id').where('id', '!=', box).execute())[0]!.id;
    expect(
      await hotPath.saveHeartbeats([
        signed('nonce-cccccccccccccccc', t + 3, 'live'),
        signed('nonce-dddddddddddddddd', t + 1, 'leaving'),
        signed('nonce-eeeeeeeeeeeeeeee', t + 2, 'reconnecting', other),
      ]),
    ).toEqual([true, true, true]);
    expect(await stateOf()).toBe('live');
    expect(await stateOf(other)).toBe('reconnecting');
    // An older heartbeat in a later batch (a slow request) is stored as seen but changes nothing.
    expect(await hotPath.saveHeartbeats([signed('nonce-ffffffffffffffff', t + 2, 'idle')])).toEqual([true]);
    expect(await stateOf()).toBe('live');
  });

  it.runIf(database.name === 'PostgreSQL')(
    'updates the device row in place on PostgreSQL (HOT): a heartbeat adds no index entry',
    async () => {
      // One session, so its own statistics can be read: the heartbeats' updates, and how many were HOT.
      const pool = new pg.Pool({ connectionString: location, max: 1 });
      try {
        const session = new PostgresDeviceHotPath(pool);
        const counts = async () => {
          // Pending statistics reach the shared counters when the session goes idle after this.
          await pool.query('SELECT pg_stat_force_next_flush()');
          const { rows } = await pool.query<{ upd: string; hot: string }>(
            "SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = 'devices'",
          );
          return { updates: Number(rows[0]!.upd), hot: Number(rows[0]!.hot) };
        };
        const before = await counts();
        const t = now.getTime() + 3_600_000;
        for (let i = 0; i < 20; i++) {
          const nonce = `nonce-hot-${String(i).padStart(10, '0')}`;
          // Each heartbeat is seen later than the one before, as in the field: last_seen_at changes.
          const seenAt = new Date(t + i * 1000).toISOString();
          const beat = signed(nonce, t + i, i % 2 ? 'live' : 'idle');
          const heartbeat = { nonce: { ...beat.nonce, seenAt }, beat: { ...beat.beat, seenAt } };
          expect(await session.saveHeartbeats([heartbeat])).toEqual([true]);
        }
        const after = await counts();
        expect(after.updates - before.updates).toBe(20);
        // The index on last_seen_at (dropped in migration 0014) made every one of them a full update.
        expect(after.hot - before.hot).toBe(20);
      } finally {
        await pool.end();
      }
    },
  );

  it('reads concurrent requests’ devices right, each its own row, one statement per batch on PostgreSQL', async () => {
    const ids = (await store.db.selectFrom('devices').select('id').orderBy('id').execute()).map((r) => r.id);
    // The same device twice and an unknown one among them, as concurrent requests would ask.
    const asked = [ids[1]!, ids[0]!, 'box-unknown', ids[1]!, ids[0]!];
    let statements = 0;
    const pool = store.raw.kind === 'postgres' ? store.raw.pool : undefined;
    const query = pool?.query.bind(pool);
    if (pool && query) {
      pool.query = ((...args: Parameters<typeof query>) => {
        statements++;
        return query(...args);
      }) as typeof pool.query;
    }
    try {
      const rows = await Promise.all(asked.map((id) => hotPath.findSignedDevice(id)));
      expect(rows.map((row) => row?.id)).toEqual([ids[1], ids[0], undefined, ids[1], ids[0]]);
      expect(rows[0]).toMatchObject({
        centre_id: expect.any(String),
        has_open_actions: false,
        rollouts_aimed: 0,
      });
      // Issue 17: the reads that arrive together go to PostgreSQL as one statement, not one each.
      if (pool) expect(statements).toBe(1);
    } finally {
      if (pool && query) pool.query = query as typeof pool.query;
    }
  });
});
