import { Injectable } from '@nestjs/common';
import { sql, type SqlBool } from 'kysely';
import type { FleetDb } from '../db/database.js';
import type { VitalsTable } from '../db/schema.js';
import { FleetDbHandle } from './fleet.repository.js';
import { VITALS_COLUMNS } from './vitals-history.repository.js';

export type VitalsRow = VitalsTable;
type Table = 'device_vitals_minute' | 'device_vitals_hour';

/** One hour of one group (a region, or a centre of a region) across the fleet. */
export interface FleetHourRow {
  at: string;
  group_id: string;
  group_name: string;
  boxes: number | string;
  live_minutes: number | string | null;
}

/**
 * The history's reads, roll-up and pruning, on Kysely (the same on SQLite and PostgreSQL). The
 * per-minute write is on the heartbeat hot path (`VitalsHistoryWriter`).
 */
@Injectable()
export class HistoryRepository {
  constructor(private readonly handle: FleetDbHandle) {}

  private get db(): FleetDb {
    return this.handle.db;
  }

  deviceBuckets(table: Table, deviceId: string, from: string): Promise<VitalsRow[]> {
    return this.db
      .selectFrom(table)
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('at', '>=', from)
      .orderBy('at')
      .execute();
  }

  /**
   * Hours [from, to) of the minute table summed into the hour table, replacing what an earlier
   * roll-up wrote for them: running it again (a late heartbeat, another replica) gives the same rows.
   */
  async rollUpHours(from: string, to: string): Promise<void> {
    const hour = sql<string>`substr(at, 1, 13) || ':00:00.000Z'`;
    await this.db
      .insertInto('device_vitals_hour')
      // The hour table's columns are the minute table's: one list for the writer and the roll-up.
      .columns([...VITALS_COLUMNS])
      .expression((eb) =>
        eb
          .selectFrom('device_vitals_minute')
          .select((s) => [
            'device_id',
            s.fn.max('centre_id').as('centre_id'),
            hour.as('at'),
            s.fn.sum<number>('minutes').as('minutes'),
            s.fn.sum<number>('beats').as('beats'),
            s.fn.sum<number>('live_minutes').as('live_minutes'),
            s.fn.sum<number>('audio_only_minutes').as('audio_only_minutes'),
            s.fn.sum<number>('update_failed_minutes').as('update_failed_minutes'),
            s.fn.sum<number>('temp_sum').as('temp_sum'),
            s.fn.max('temp_max').as('temp_max'),
            s.fn.sum<number>('temp_n').as('temp_n'),
            s.fn.sum<number>('rtt_sum').as('rtt_sum'),
            s.fn.sum<number>('rtt_n').as('rtt_n'),
            s.fn.sum<number>('uplink_sum').as('uplink_sum'),
            s.fn.sum<number>('uplink_n').as('uplink_n'),
            s.fn.sum<number>('loss_sum').as('loss_sum'),
            s.fn.sum<number>('loss_n').as('loss_n'),
          ])
          .where('at', '>=', from)
          .where('at', '<', to)
          .groupBy(['device_id', hour]),
      )
      .onConflict((oc) =>
        oc.columns(['device_id', 'at']).doUpdateSet((eb) => ({
          minutes: eb.ref('excluded.minutes'),
          beats: eb.ref('excluded.beats'),
          live_minutes: eb.ref('excluded.live_minutes'),
          audio_only_minutes: eb.ref('excluded.audio_only_minutes'),
          update_failed_minutes: eb.ref('excluded.update_failed_minutes'),
          temp_sum: eb.ref('excluded.temp_sum'),
          temp_max: eb.ref('excluded.temp_max'),
          temp_n: eb.ref('excluded.temp_n'),
          rtt_sum: eb.ref('excluded.rtt_sum'),
          rtt_n: eb.ref('excluded.rtt_n'),
          uplink_sum: eb.ref('excluded.uplink_sum'),
          uplink_n: eb.ref('excluded.uplink_n'),
          loss_sum: eb.ref('excluded.loss_sum'),
          loss_n: eb.ref('excluded.loss_n'),
        })),
      )
      .execute();
  }

  async pruneBefore(table: Table, before: string): Promise<number> {
    const result = await this.db.deleteFrom(table).where('at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Per hour since `from`, boxes heard from and class minutes, by region or by the centres of one
   * region. Grouped by centre first (the history carries it), then joined to the 1,000-odd centres:
   * a join per history row was seconds on SQLite with 10,000 boxes' week.
   */
  fleetHours(from: string, region?: string): Promise<FleetHourRow[]> {
    let query = this.db
      .selectFrom((eb) =>
        eb
          .selectFrom('device_vitals_hour')
          .select((s) => [
            'at',
            'centre_id',
            s.fn.countAll<number | string>().as('boxes'),
            s.fn.sum<number | string>('live_minutes').as('live_minutes'),
          ])
          .where('at', '>=', from)
          .groupBy(['at', 'centre_id'])
          .as('g'),
      )
      .innerJoin('centres as c', 'c.id', 'g.centre_id');
    if (region !== undefined) query = query.where('c.region', '=', region);
    return query
      .select((eb) => [
        'g.at as at',
        (region === undefined ? sql<string>`c.region` : sql<string>`c.id`).as('group_id'),
        (region === undefined ? sql<string>`c.region` : sql<string>`c.name`).as('group_name'),
        eb.fn.sum<number | string>('g.boxes').as('boxes'),
        eb.fn.sum<number | string>('g.live_minutes').as('live_minutes'),
      ])
      .groupBy(region === undefined ? ['g.at', 'c.region'] : ['g.at', 'c.id', 'c.name'])
      .orderBy('g.at')
      .execute() as Promise<FleetHourRow[]>;
  }

  /** Hours since `from` in which a box reported a failed or rolled-back update. */
  updateFailureHours(from: string, region?: string): Promise<{ device_id: string; at: string }[]> {
    let query = this.db
      .selectFrom('device_vitals_hour as h')
      .select(['h.device_id as device_id', 'h.at as at'])
      .where('h.at', '>=', from)
      // A literal 0, as in the partial index of migration 0010 (SQLite matches its predicate as written).
      .where(sql<SqlBool>`h.update_failed_minutes > 0`);
    if (region !== undefined)
      query = query.innerJoin('centres as c', 'c.id', 'h.centre_id').where('c.region', '=', region);
    return query.execute();
  }
}
