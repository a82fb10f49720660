import { Injectable } from '@nestjs/common';
import type { FleetDb } from '../db/database.js';
import { FleetDbHandle } from './fleet.repository.js';

export interface CatchupClassRow {
  readonly deviceId: string;
  readonly classId: string;
  readonly centreId: string;
  readonly joinedAt: string;
  readonly missedMs: number;
  readonly caughtUpMs: number;
}

/** Per box and class: the minutes missed and caught up (issue 21), the latest report of each class. */
@Injectable()
export class CatchupStatsRepository {
  constructor(private readonly handle: FleetDbHandle) {}

  private get db(): FleetDb {
    return this.handle.db;
  }

  async upsert(rows: readonly CatchupClassRow[], now: string): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto('catchup_classes')
      .values(
        rows.map((r) => ({
          device_id: r.deviceId,
          class_id: r.classId,
          centre_id: r.centreId,
          joined_at: r.joinedAt,
          missed_ms: r.missedMs,
          caught_up_ms: r.caughtUpMs,
          updated_at: now,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['device_id', 'class_id']).doUpdateSet((eb) => ({
          missed_ms: eb.ref('excluded.missed_ms'),
          caught_up_ms: eb.ref('excluded.caught_up_ms'),
          centre_id: eb.ref('excluded.centre_id'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }

  /** Per centre, over the classes joined since `since` (ISO): ms missed and caught up, and how many classes. */
  async perCentre(
    since: string,
  ): Promise<{ centreId: string; missedMs: number; caughtUpMs: number; classes: number }[]> {
    const rows = await this.db
      .selectFrom('catchup_classes')
      .select((eb) => [
        'centre_id',
        eb.fn.sum<number | string>('missed_ms').as('missed'),
        eb.fn.sum<number | string>('caught_up_ms').as('caught'),
        eb.fn.countAll<number | string>().as('classes'),
      ])
      .where('joined_at', '>=', since)
      .groupBy('centre_id')
      .orderBy('centre_id')
      .execute();
    return rows.map((r) => ({
      centreId: r.centre_id,
      missedMs: Number(r.missed),
      caughtUpMs: Number(r.caught),
      classes: Number(r.classes),
    }));
  }
}
