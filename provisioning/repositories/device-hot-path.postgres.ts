import type pg from 'pg';
import { GroupCommit } from '../domain/group-commit.js';
import {
  DeviceHotPathRepository,
  signedDeviceSql,
  type HeartbeatRecord,
  type NonceRecord,
  type SignedDeviceRow,
  type SignedHeartbeat,
} from './device-hot-path.repository.js';

/** Device reads per statement at most; under load a batch holds what arrived during the previous one. */
const MAX_READ_BATCH = 256;

/**
 * The hot path on PostgreSQL: named statements (parsed and planned once per pooled connection), and
 * a batch written as one statement over arrays (`unnest`), so a batch costs one round trip and one
 * implicit transaction whatever its size. Device reads are batched the same way (issue 17): the reads
 * of requests that arrive while one is under way go together in the next statement (`= ANY($1)`), so
 * the database parses, plans and answers one statement per batch instead of one per request (the
 * per-statement work, on the database's side and the server's, was most of a heartbeat's cost there).
 */
export class PostgresDeviceHotPath extends DeviceHotPathRepository {
  private readonly reads: GroupCommit<string, SignedDeviceRow | undefined>;

  constructor(private readonly pool: pg.Pool) {
    super();
    this.reads = new GroupCommit((ids) => this.readDevices(ids), MAX_READ_BATCH, setImmediate);
  }

  findSignedDevice(id: string): Promise<SignedDeviceRow | undefined> {
    return this.reads.submit(id);
  }

  /** One row (or none) per id, in order; an id asked twice in a batch gets the same row twice. */
  private async readDevices(ids: readonly string[]): Promise<(SignedDeviceRow | undefined)[]> {
    const result = await this.pool.query<
      Omit<SignedDeviceRow, 'rollouts_aimed'> & { rollouts_aimed: string }
    >({
      name: 'classbox_signed_devices',
      text: signedDeviceSql('ANY($1::text[])'),
      values: [[...new Set(ids)]],
    });
    // count(*) is a bigint, which pg hands over as a string.
    const rows = new Map(
      result.rows.map((row) => [row.id, { ...row, rollouts_aimed: Number(row.rollouts_aimed) }]),
    );
    return ids.map((id) => rows.get(id));
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

  async saveHeartbeats(items: readonly SignedHeartbeat[]): Promise<boolean[]> {
    // A nonce twice in one batch: the first is stored, the second is a replay of it.
    const key = (n: NonceRecord): string => `${n.deviceId}\n${n.nonce}`;
    const firsts = new Map<string, SignedHeartbeat>();
    for (const item of items) if (!firsts.has(key(item.nonce))) firsts.set(key(item.nonce), item);
    const unique = [...firsts.values()];
    const nonce = <K extends keyof NonceRecord>(k: K): NonceRecord[K][] => unique.map((i) => i.nonce[k]);
    const beat = <K extends keyof HeartbeatRecord>(k: K): HeartbeatRecord[K][] =>
      unique.map((i) => i.beat[k]);
    // One statement, one round trip: the nonces go in (sorted, so replicas inserting the same keys take
    // their locks in one order), and only the heartbeats whose nonce went in update their device — each
    // device's latest of them (UPDATE … FROM takes one arbitrary source row per target row; a tie in
    // signed time goes to the later one submitted). Data-modifying WITH parts always run to completion.
    const result = await this.pool.query<{ device_id: string; nonce: string }>({
      name: 'classbox_save_signed_heartbeats',
      text: `WITH fresh AS (
               INSERT INTO request_nonces (device_id, nonce, seen_at)
               SELECT n.device_id, n.nonce, n.seen_at
               FROM unnest($1::text[], $2::text[], $3::text[]) AS n(device_id, nonce, seen_at)
               ORDER BY n.device_id, n.nonce
               ON CONFLICT (device_id, nonce) DO NOTHING
               RETURNING device_id, nonce),
             saved AS (
               UPDATE devices AS d
               SET state = v.state, error_code = v.error_code, health_json = v.health_json,
                   version = v.version, vitals_json = v.vitals_json, last_seen_at = v.seen_at,
                   updated_at = v.seen_at, heartbeat_at = v.signed_at
               FROM (SELECT DISTINCT ON (u.id) u.*
                     FROM unnest($1::text[], $2::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                                 $8::text[], $9::text[], $10::bigint[])
                            WITH ORDINALITY
                            AS u(id, nonce, state, error_code, health_json, version, vitals_json, seen_at,
                                 signed_at, ord)
                     JOIN fresh f ON f.device_id = u.id AND f.nonce = u.nonce
                     ORDER BY u.id, u.signed_at DESC, u.ord DESC) AS v
               WHERE d.id = v.id AND (d.heartbeat_at IS NULL OR d.heartbeat_at < v.signed_at)
               RETURNING d.id)
             SELECT device_id, nonce FROM fresh`,
      values: [
        nonce('deviceId'),
        nonce('nonce'),
        nonce('seenAt'),
        beat('state'),
        beat('errorCode'),
        beat('healthJson'),
        beat('version'),
        beat('vitalsJson'),
        beat('seenAt'),
        beat('signedAtMs'),
      ],
    });
    const stored = new Set(result.rows.map((r) => `${r.device_id}\n${r.nonce}`));
    return items.map((item) => firsts.get(key(item.nonce)) === item && stored.has(key(item.nonce)));
  }
}
