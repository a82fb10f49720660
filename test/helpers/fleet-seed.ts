import type { Insertable } from 'kysely';
import type { FleetDb } from '../../provisioning/db/database.js';
import type { CentresTable, DevicesTable } from '../../provisioning/db/schema.js';

/** Provinces of the centres, in the order the seed deals them out. */
export const SEED_REGIONS = ['江西', '福建', '湖南', '贵州', '陕西', '甘肃', '广西', '四川', '云南', '河北'];

/** What one seeded box is, so a test can work out what the dashboard must show without SQL. */
export interface SeededBox {
  id: string;
  centreId: string;
  centreName: string;
  region: string;
  displayName: string;
  online: boolean;
  inClass: boolean;
  problem: boolean;
  updateFailed: boolean;
  version: string;
}

export interface SeededFleet {
  centres: { id: string; name: string; region: string }[];
  boxes: SeededBox[];
}

/**
 * A national fleet written straight into the database in batches (10,000 enrolments through the API
 * would take minutes and test enrolment, not the dashboard): `centres` centres, `perCentre` boxes
 * each, with a spread of states dealt by index so that every filter has something to find.
 * `publicKeyPem` is every box's key (tests that sign as a seeded box use the matching private key).
 */
export async function seedFleet(
  db: FleetDb,
  options: { centres: number; perCentre: number; now: Date; publicKeyPem: string },
): Promise<SeededFleet> {
  const nowIso = options.now.toISOString();
  const fleet: SeededFleet = { centres: [], boxes: [] };
  const centreRows: Insertable<CentresTable>[] = [];
  const deviceRows: Insertable<DevicesTable>[] = [];
  for (let c = 0; c < options.centres; c++) {
    const id = `c${String(c).padStart(4, '0')}`;
    const region = SEED_REGIONS[c % SEED_REGIONS.length]!;
    const name = `${region}第${c}教学点`;
    fleet.centres.push({ id, name, region });
    centreRows.push({
      id,
      name,
      region,
      room_json: JSON.stringify({ janusUrl: 'wss://janus.example.cn', room: 1000 + c }),
      timetable_json: '[]',
      timezone: 'Asia/Shanghai',
      created_at: nowIso,
      updated_at: nowIso,
    });
    for (let b = 1; b <= options.perCentre; b++) {
      const i = c * options.perCentre + b;
      const online = i % 7 !== 0;
      const inClass = online && i % 5 === 1;
      const problem = i % 11 === 3;
      const updateFailed = i % 13 === 4;
      const version = `1.${i % 3}.0`;
      const box: SeededBox = {
        id: `${id}-${String(b).padStart(2, '0')}`,
        centreId: id,
        centreName: name,
        region,
        displayName: `${name} ${b}号机`,
        online,
        inClass,
        problem,
        updateFailed,
        version,
      };
      fleet.boxes.push(box);
      // Offline boxes were last seen a day ago; online ones within the last minute. (Tests that take
      // minutes to set up give the server a long offline window, so online boxes stay online.)
      const lastSeen = new Date(options.now.getTime() - (online ? (i % 60) * 1000 : 86_400_000));
      deviceRows.push({
        id: box.id,
        centre_id: id,
        display_name: box.displayName,
        public_key: options.publicKeyPem,
        state: inClass ? 'live' : 'idle',
        error_code: null,
        last_seen_at: lastSeen.toISOString(),
        version,
        health_json: JSON.stringify({
          camera: problem ? { status: 'missing', code: 'E-CAMERA-MISSING' } : { status: 'ok' },
          microphone: { status: 'ok' },
        }),
        vitals_json: JSON.stringify({
          uptimeSec: 3600,
          temperatureC: 40 + (i % 30),
          board: 'Raspberry Pi 4',
        }),
        enrolled_at: nowIso,
        updated_at: nowIso,
        channel: 'stable',
        update_json: updateFailed
          ? JSON.stringify({ state: 'failed', version: '1.3.0', code: 'E-UPDATE-UNHEALTHY' })
          : null,
        heartbeat_at: lastSeen.getTime(),
      });
    }
  }
  // Batches small enough for SQLite's and PostgreSQL's limits on bound parameters.
  for (let i = 0; i < centreRows.length; i += 500)
    await db
      .insertInto('centres')
      .values(centreRows.slice(i, i + 500))
      .execute();
  for (let i = 0; i < deviceRows.length; i += 500)
    await db
      .insertInto('devices')
      .values(deviceRows.slice(i, i + 500))
      .execute();
  return fleet;
}
