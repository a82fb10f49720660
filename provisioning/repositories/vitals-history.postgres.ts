import type pg from 'pg';
import type { VitalsBucket } from '../domain/vitals-buckets.js';
import {
  addMinuteSet,
  bucketValues,
  VITALS_COLUMNS,
  VitalsHistoryWriter,
} from './vitals-history.repository.js';

const TYPES = [
  'text',
  'text',
  'text',
  'int',
  'int',
  'int',
  'int',
  'int',
  'float8',
  'float8',
  'int',
  'float8',
  'int',
  'float8',
  'int',
  'float8',
  'int',
] as const;

/**
 * The history write on PostgreSQL: one named statement over arrays (`unnest`), so a batch is one
 * round trip whatever its size. The batch holds one row per (device, minute) at most (`foldBeats`),
 * which an upsert needs: it can't touch one row twice.
 */
export class PostgresVitalsHistory extends VitalsHistoryWriter {
  constructor(private readonly pool: pg.Pool) {
    super();
  }

  async addMinutes(buckets: readonly VitalsBucket[]): Promise<void> {
    if (buckets.length === 0) return;
    const rows = buckets.map(bucketValues);
    await this.pool.query({
      name: 'classbox_add_vitals_minutes',
      text: `INSERT INTO device_vitals_minute (${VITALS_COLUMNS.join(', ')})
             SELECT * FROM unnest(${TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})
             ON CONFLICT (device_id, at) DO UPDATE SET ${addMinuteSet('device_vitals_minute')}`,
      values: VITALS_COLUMNS.map((_, i) => rows.map((r) => r[i])),
    });
  }
}
