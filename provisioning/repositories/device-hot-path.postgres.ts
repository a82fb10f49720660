import type pg from 'pg';
import {
  DeviceHotPathRepository,
  latestPerDevice,
  signedDeviceSql,
  type HeartbeatRecord,
  type NonceRecord,
  type SignedDeviceRow,
} from './device-hot-path.repository.js';

/**
 * The hot path on PostgreSQL: named statements (parsed and planned once per pooled connection), and
 * a batch written as one statement over arrays (`unnest`), so a batch costs one round trip and one
 * implicit transaction whatever its size.
 */
export class PostgresDeviceHotPath extends DeviceHotPathRepository {
  constructor(private readonly pool: pg.Pool) {
    super();
  }

  async findSignedDevice(id: string): Promise<SignedDeviceRow | undefined> {
    const result = await this.pool.query<
      Omit<SignedDeviceRow, 'rollouts_aimed'> & { rollouts_aimed: string }
    >({
      name: 'classbox_signed_device',
      text: signedDeviceSql('$1'),
      values: [id],
    });
    const row = result.rows[0];
    // count(*) is a bigint, which pg hands over as a string.
    return row && { ...row, rollouts_aimed: Number(row.rollouts_aimed) };
  }

  async rememberNonces(items: readonly NonceRecord[]): Promise<boolean[]> {
    // A nonce twice in one batch: the first goes to the database, the second is a replay of it.
    const key = (n: NonceRecord): string => `${n.deviceId}\n${n.nonce}`;
    const firsts = new Map<string, NonceRecord>();
    for (const item of items) if (!firsts.has(key(item))) firsts.set(key(item), item);
    const unique = [...firsts.values()];
    // Sorted, so that replicas inserting the same keys take their locks in one order (no deadlock).
    const result = await this.pool.query<{ device_id: string; nonce: string }>({
      name: 'classbox_remember_nonces',
      text: `INSERT INTO request_nonces (device_id, nonce, seen_at)
             SELECT n.device_id, n.nonce, n.seen_at
             FROM unnest($1::text[], $2::text[], $3::text[]) AS n(device_id, nonce, seen_at)
             ORDER BY n.device_id, n.nonce
             ON CONFLICT (device_id, nonce) DO NOTHING
             RETURNING device_id, nonce`,
      values: [unique.map((n) => n.deviceId), unique.map((n) => n.nonce), unique.map((n) => n.seenAt)],
    });
    const fresh = new Set(result.rows.map((r) => `${r.device_id}\n${r.nonce}`));
    return items.map((item) => firsts.get(key(item)) === item && fresh.has(key(item)));
  }

  async saveHeartbeats(items: readonly HeartbeatRecord[]): Promise<void> {
    // UPDATE … FROM takes one arbitrary source row per target row: give it only each device's latest.
    const latest = latestPerDevice(items).sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
    const column = <K extends keyof HeartbeatRecord>(k: K): HeartbeatRecord[K][] => latest.map((h) => h[k]);
    await this.pool.query({
      name: 'classbox_save_heartbeats',
      text: `UPDATE devices AS d
             SET state = v.state, error_code = v.error_code, health_json = v.health_json,
                 version = v.version, vitals_json = v.vitals_json, last_seen_at = v.seen_at,
                 updated_at = v.seen_at, heartbeat_at = v.signed_at
             FROM (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                        $6::text[], $7::text[], $8::bigint[])
                     AS u(id, state, error_code, health_json, version, vitals_json, seen_at, signed_at)
                   ORDER BY u.id) AS v
             WHERE d.id = v.id AND (d.heartbeat_at IS NULL OR d.heartbeat_at < v.signed_at)`,
      values: [
        column('deviceId'),
        column('state'),
        column('errorCode'),
        column('healthJson'),
        column('version'),
        column('vitalsJson'),
        column('seenAt'),
        column('signedAtMs'),
      ],
    });
  }
}
