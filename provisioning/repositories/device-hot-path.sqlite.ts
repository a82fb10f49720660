import type BetterSqlite3 from 'better-sqlite3';
import type { FleetDb } from '../db/database.js';
import {
  DeviceHotPathRepository,
  signedDeviceSql,
  type HeartbeatRecord,
  type NonceRecord,
  type SignedDeviceRow,
  type SignedHeartbeat,
} from './device-hot-path.repository.js';

type RawRow = Omit<SignedDeviceRow, 'has_open_actions'> & { has_open_actions: number };

/**
 * The hot path on SQLite: better-sqlite3 statements prepared once. Each call runs inside Kysely's
 * connection lock, so it never lands in the middle of a Kysely transaction on the same connection
 * (e.g. an enrolment), whose writes it would otherwise see before they commit or join.
 */
export class SqliteDeviceHotPath extends DeviceHotPathRepository {
  private readonly read: BetterSqlite3.Statement<[string], RawRow>;
  private readonly remember: (items: readonly NonceRecord[]) => boolean[];
  private readonly save: (items: readonly SignedHeartbeat[]) => boolean[];

  constructor(
    private readonly db: FleetDb,
    sqlite: BetterSqlite3.Database,
  ) {
    super();
    this.read = sqlite.prepare<[string], RawRow>(signedDeviceSql('?'));
    const insertNonce = sqlite.prepare<[string, string, string]>(
      'INSERT INTO request_nonces (device_id, nonce, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.remember = sqlite.transaction((items: readonly NonceRecord[]) =>
      items.map((n) => insertNonce.run(n.deviceId, n.nonce, n.seenAt).changes === 1),
    );
    const update = sqlite.prepare<[HeartbeatRecord]>(
      `UPDATE devices SET state = @state, error_code = @errorCode, health_json = @healthJson,
         version = @version, vitals_json = @vitalsJson, last_seen_at = @seenAt, updated_at = @seenAt,
         heartbeat_at = @signedAtMs
       WHERE id = @deviceId AND (heartbeat_at IS NULL OR heartbeat_at < @signedAtMs)`,
    );
    // In submission order: a heartbeat older than one already applied (even in this batch) changes
    // nothing, and one whose nonce is already stored (a replay, even of one in this batch) is not applied.
    this.save = sqlite.transaction((items: readonly SignedHeartbeat[]) =>
      items.map(({ nonce, beat }) => {
        if (insertNonce.run(nonce.deviceId, nonce.nonce, nonce.seenAt).changes !== 1) return false;
        update.run(beat);
        return true;
      }),
    );
  }

  findSignedDevice(id: string): Promise<SignedDeviceRow | undefined> {
    return this.locked(() => {
      const row = this.read.get(id);
      return row && { ...row, has_open_actions: row.has_open_actions === 1 };
    });
  }

  rememberNonces(items: readonly NonceRecord[]): Promise<boolean[]> {
    return this.locked(() => this.remember(items));
  }

  saveHeartbeats(items: readonly SignedHeartbeat[]): Promise<boolean[]> {
    return this.locked(() => this.save(items));
  }

  private locked<T>(work: () => T): Promise<T> {
    return this.db.connection().execute(() => Promise.resolve(work()));
  }
}
