import { Injectable } from '@nestjs/common';
import type { Insertable, Selectable } from 'kysely';
import type { FleetDb } from '../db/database.js';
import type { ReleasesTable, RolloutsTable } from '../db/schema.js';
import { FleetDbHandle } from './fleet.repository.js';

export type ReleaseRow = Selectable<ReleasesTable>;
export type RolloutRow = Selectable<RolloutsTable>;

export interface RolloutDeviceRow {
  id: string;
  version: string | null;
  update_json: string | null;
  last_seen_at: string | null;
}

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
      .where('rollouts.state', '=', 'active')
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

  findRollout(id: string): Promise<RolloutRow | undefined> {
    return this.db.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** False when the rollout was not in one of the `from` states (another admin changed it meanwhile). */
  async setRolloutState(id: string, from: readonly string[], to: string, now: string): Promise<boolean> {
    const result = await this.db
      .updateTable('rollouts')
      .set({ state: to, updated_at: now })
      .where('id', '=', id)
      .where('state', 'in', [...from])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** The boxes a rollout is aimed at, with what their progress is judged from. */
  rolloutTargetDevices(kind: string, id: string): Promise<RolloutDeviceRow[]> {
    const column = kind === 'channel' ? 'channel' : kind === 'centre' ? 'centre_id' : 'id';
    return this.db
      .selectFrom('devices')
      .select(['id', 'version', 'update_json', 'last_seen_at'])
      .where(column, '=', id)
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
