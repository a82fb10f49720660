import type BetterSqlite3 from 'better-sqlite3';
import type { FleetDb } from '../db/database.js';
import type { VitalsBucket } from '../domain/vitals-buckets.js';
import {
  addMinuteSet,
  bucketValues,
  VITALS_COLUMNS,
  VitalsHistoryWriter,
} from './vitals-history.repository.js';

/** The history write on SQLite: one prepared upsert, a batch in one transaction, under Kysely's lock. */
export class SqliteVitalsHistory extends VitalsHistoryWriter {
  private readonly add: (buckets: readonly VitalsBucket[]) => void;

  constructor(
    private readonly db: FleetDb,
    sqlite: BetterSqlite3.Database,
  ) {
    super();
    const upsert = sqlite.prepare(
      `INSERT INTO device_vitals_minute (${VITALS_COLUMNS.join(', ')})
       VALUES (${VITALS_COLUMNS.map(() => '?').join(', ')})
       ON CONFLICT (device_id, at) DO UPDATE SET ${addMinuteSet('device_vitals_minute')}`,
    );
    this.add = sqlite.transaction((buckets: readonly VitalsBucket[]) => {
      for (const b of buckets) upsert.run(...bucketValues(b));
    });
  }

  addMinutes(buckets: readonly VitalsBucket[]): Promise<void> {
    if (buckets.length === 0) return Promise.resolve();
    return this.db.connection().execute(() => Promise.resolve(this.add(buckets)));
  }
}
