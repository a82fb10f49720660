import { Injectable } from '@nestjs/common';
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { FleetDb } from '../db/database.js';
import type {
  AdminsTable,
  CentresTable,
  DeviceActionsTable,
  DevicesTable,
  EnrolmentTokensTable,
  SnapshotsTable,
} from '../db/schema.js';

export type CentreRow = Selectable<CentresTable>;
export type DeviceRow = Selectable<DevicesTable>;
export type TokenRow = Selectable<EnrolmentTokensTable>;
export type ActionRow = Selectable<DeviceActionsTable>;
export type SnapshotRow = Selectable<SnapshotsTable>;
export type AdminRow = Selectable<AdminsTable>;

/** The DI token of the open database handle. */
export abstract class FleetDbHandle {
  abstract readonly db: FleetDb;
}

/**
 * Every query of the fleet server, on Kysely: the same code on SQLite and PostgreSQL.
 * Nothing here keeps state between requests, so replicas can share one PostgreSQL.
 */
@Injectable()
export class FleetRepository {
  constructor(private readonly handle: FleetDbHandle) {}

  private get db(): FleetDb {
    return this.handle.db;
  }

  async ping(): Promise<void> {
    await this.db.selectFrom('admins').select('id').limit(1).execute();
  }

  // Centres

  listCentres(): Promise<CentreRow[]> {
    return this.db.selectFrom('centres').selectAll().orderBy('id').execute();
  }

  findCentre(id: string): Promise<CentreRow | undefined> {
    return this.db.selectFrom('centres').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** False when a centre with that id exists already. */
  async insertCentre(row: Insertable<CentresTable>): Promise<boolean> {
    const result = await this.db
      .insertInto('centres')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async updateCentre(id: string, patch: Updateable<CentresTable>): Promise<void> {
    await this.db.updateTable('centres').set(patch).where('id', '=', id).execute();
  }

  // Devices

  listDevices(centreId?: string): Promise<DeviceRow[]> {
    let query = this.db.selectFrom('devices').selectAll().orderBy('id');
    if (centreId !== undefined) query = query.where('centre_id', '=', centreId);
    return query.execute();
  }

  findDevice(id: string): Promise<DeviceRow | undefined> {
    return this.db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async updateDevice(id: string, patch: Updateable<DevicesTable>): Promise<void> {
    await this.db.updateTable('devices').set(patch).where('id', '=', id).execute();
  }

  async deviceIdsTaken(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const [devices, tokens] = await Promise.all([
      this.db
        .selectFrom('devices')
        .select('id')
        .where('id', 'in', [...ids])
        .execute(),
      this.db
        .selectFrom('enrolment_tokens')
        .select('device_id as id')
        .where('device_id', 'in', [...ids])
        .execute(),
    ]);
    return new Set([...devices, ...tokens].map((r) => r.id));
  }

  // Enrolment tokens

  async insertTokens(rows: Insertable<EnrolmentTokensTable>[]): Promise<void> {
    await this.db.insertInto('enrolment_tokens').values(rows).execute();
  }

  listTokens(centreId: string): Promise<TokenRow[]> {
    return this.db
      .selectFrom('enrolment_tokens')
      .selectAll()
      .where('centre_id', '=', centreId)
      .orderBy('created_at', 'desc')
      .orderBy('device_id')
      .execute();
  }

  findToken(tokenHash: string): Promise<TokenRow | undefined> {
    return this.db
      .selectFrom('enrolment_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
  }

  /**
   * Spend a token and save the device in one transaction. The conditional update is the
   * single-use guarantee: of two concurrent enrolments with one token, only one updates a row.
   */
  async enrol(
    tokenHash: string,
    now: string,
    device: Insertable<DevicesTable>,
  ): Promise<'enrolled' | 'spent'> {
    return this.db.transaction().execute(async (trx) => {
      const spent = await trx
        .updateTable('enrolment_tokens')
        .set({ used_at: now })
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      if (Number(spent.numUpdatedRows) !== 1) return 'spent';
      // A re-flashed box enrols again under its id with a new key: the old key stops working.
      await trx
        .insertInto('devices')
        .values(device)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({
            centre_id: device.centre_id,
            display_name: device.display_name,
            public_key: device.public_key,
            enrolled_at: device.enrolled_at,
            updated_at: device.updated_at,
          }),
        )
        .execute();
      return 'enrolled';
    });
  }

  // Replay protection

  /** Nonces are remembered in batches by `DeviceHotPathRepository`; old ones are forgotten here. */
  async forgetNoncesBefore(before: string): Promise<void> {
    await this.db.deleteFrom('request_nonces').where('seen_at', '<', before).execute();
  }

  // Remote actions

  async insertAction(row: Insertable<DeviceActionsTable>): Promise<void> {
    await this.db.insertInto('device_actions').values(row).execute();
  }

  listActions(deviceId: string, limit = 20): Promise<ActionRow[]> {
    return this.db
      .selectFrom('device_actions')
      .selectAll()
      .where('device_id', '=', deviceId)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
  }

  /** Actions the device has not acknowledged yet; they are resent until it reports a result. */
  openActions(deviceId: string): Promise<ActionRow[]> {
    return this.db
      .selectFrom('device_actions')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('status', 'in', ['pending', 'sent'])
      .orderBy('created_at')
      .execute();
  }

  findAction(deviceId: string, actionId: string): Promise<ActionRow | undefined> {
    return this.db
      .selectFrom('device_actions')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('id', '=', actionId)
      .executeTakeFirst();
  }

  async setActionStatus(
    ids: readonly string[],
    status: string,
    now: string,
    detail?: string | null,
  ): Promise<void> {
    if (ids.length === 0) return;
    const patch: Updateable<DeviceActionsTable> = { status, updated_at: now };
    if (detail !== undefined) patch.detail = detail;
    await this.db
      .updateTable('device_actions')
      .set(patch)
      .where('id', 'in', [...ids])
      .execute();
  }

  async saveSnapshot(row: Insertable<SnapshotsTable>): Promise<void> {
    await this.db
      .insertInto('snapshots')
      .values(row)
      .onConflict((oc) =>
        oc
          .column('device_id')
          .doUpdateSet({ action_id: row.action_id, jpeg_base64: row.jpeg_base64, taken_at: row.taken_at }),
      )
      .execute();
  }

  findSnapshot(deviceId: string): Promise<SnapshotRow | undefined> {
    return this.db.selectFrom('snapshots').selectAll().where('device_id', '=', deviceId).executeTakeFirst();
  }

  // Admins

  async insertAdmin(row: Insertable<AdminsTable>): Promise<boolean> {
    const result = await this.db
      .insertInto('admins')
      .values(row)
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  findAdminByTokenHash(tokenHash: string): Promise<AdminRow | undefined> {
    return this.db.selectFrom('admins').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  async countAdmins(): Promise<number> {
    const row = await this.db
      .selectFrom('admins')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
