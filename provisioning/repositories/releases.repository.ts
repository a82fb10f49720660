import { Injectable } from '@nestjs/common';
import type { Insertable, Selectable } from 'kysely';
import type { FleetDb } from '../db/database.js';
import type { ReleasesTable, RolloutsTable } from '../db/schema.js';
import { FleetDbHandle } from './fleet.repository.js';

export type ReleaseRow = Selectable<ReleasesTable>;
export type RolloutRow = Selectable<RolloutsTable>;

/** Releases, rollouts and the devices' channel and update report, on Kysely (SQLite and PostgreSQL). */
@Injectable()
export class ReleasesRepository {
  constructor(private readonly handle: FleetDbHandle) {}

  private get db(): FleetDb {
    return this.handle.db;
  }

  /** False when that version exists already. */
  async insertRelease(row: Insertable<ReleasesTable>): Promise<boolean> {
    const result = await this.db
      .insertInto('releases')
      .values(row)
      .onConflict((oc) => oc.column('version').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  findRelease(version: string): Promise<ReleaseRow | undefined> {
    return this.db.selectFrom('releases').selectAll().where('version', '=', version).executeTakeFirst();
  }

  listReleases(): Promise<ReleaseRow[]> {
    return this.db.selectFrom('releases').selectAll().orderBy('created_at', 'desc').execute();
  }

  async setReleaseStatus(version: string, status: string, now: string): Promise<void> {
    await this.db
      .updateTable('releases')
      .set({ status, updated_at: now })
      .where('version', '=', version)
      .execute();
  }

  async insertRollout(row: Insertable<RolloutsTable>): Promise<void> {
    await this.db.insertInto('rollouts').values(row).execute();
  }

  listRollouts(version?: string): Promise<RolloutRow[]> {
    let query = this.db.selectFrom('rollouts').selectAll().orderBy('created_at', 'desc').orderBy('id');
    if (version !== undefined) query = query.where('version', '=', version);
    return query.execute();
  }

  /** Rollouts aimed at this device, its centre or its channel, of releases whose payload is in. */
  rolloutsFor(target: { deviceId: string; centreId: string; channel: string }): Promise<RolloutRow[]> {
    return this.db
      .selectFrom('rollouts')
      .innerJoin('releases', 'releases.version', 'rollouts.version')
      .selectAll('rollouts')
      .where('releases.status', '=', 'ready')
      .where((eb) =>
        eb.or([
          eb.and([eb('rollouts.target_kind', '=', 'device'), eb('rollouts.target_id', '=', target.deviceId)]),
          eb.and([eb('rollouts.target_kind', '=', 'centre'), eb('rollouts.target_id', '=', target.centreId)]),
          eb.and([eb('rollouts.target_kind', '=', 'channel'), eb('rollouts.target_id', '=', target.channel)]),
        ]),
      )
      .orderBy('rollouts.created_at', 'desc')
      .orderBy('rollouts.id', 'desc')
      .execute();
  }

  async setChannel(deviceId: string, channel: string, now: string): Promise<void> {
    await this.db
      .updateTable('devices')
      .set({ channel, updated_at: now })
      .where('id', '=', deviceId)
      .execute();
  }

  async saveUpdateReport(deviceId: string, reportJson: string | null): Promise<void> {
    await this.db
      .updateTable('devices')
      .set({ update_json: reportJson })
      .where('id', '=', deviceId)
      .execute();
  }

  findDeviceUpdate(
    deviceId: string,
  ): Promise<
    | { id: string; centre_id: string; channel: string; update_json: string | null; version: string | null }
    | undefined
  > {
    return this.db
      .selectFrom('devices')
      .select(['id', 'centre_id', 'channel', 'update_json', 'version'])
      .where('id', '=', deviceId)
      .executeTakeFirst();
  }
}
