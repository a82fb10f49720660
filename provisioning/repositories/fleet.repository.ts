import { Injectable } from '@nestjs/common';
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { FleetDb } from '../db/database.js';
import type {
  AdminsTable,
  AuditLogTable,
  CentresTable,
  DeviceActionsTable,
  DevicesTable,
  EnrolmentTokensTable,
  SnapshotsTable,
  DeviceLogsTable,
} from '../db/schema.js';

export type CentreRow = Selectable<CentresTable>;
export type DeviceRow = Selectable<DevicesTable>;
export type TokenRow = Selectable<EnrolmentTokensTable>;
export type ActionRow = Selectable<DeviceActionsTable>;
export type SnapshotRow = Selectable<SnapshotsTable>;
export type DeviceLogsRow = Selectable<DeviceLogsTable>;
export type AdminRow = Selectable<AdminsTable>;
export type AuditRow = Selectable<AuditLogTable>;

/** What an enrolment did, for the log: the key it replaced, the tokens it expired. */
export interface EnrolOutcome<T> {
  outcome: 'enrolled';
  previousKey: string | undefined;
  expiredTokens: number;
  prepared: T;
}

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

  /** The media node URLs of a class, primary first (issue 19); null while it is not placed. */
  async placementUrls(classId: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('class_placements')
      .select('urls_json')
      .where('class_id', '=', classId)
      .executeTakeFirst();
    return row?.urls_json ?? null;
  }

  /** A class's room number changed (issue 19): its placement follows, so the fleet makes the new room. */
  async updatePlacementRoom(classId: string, room: number): Promise<void> {
    await this.db.updateTable('class_placements').set({ room }).where('class_id', '=', classId).execute();
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

  /** Where these ids are: enrolled devices and open tokens, with their centre. */
  async deviceIdOwners(
    ids: readonly string[],
    now: string,
  ): Promise<{ id: string; centre_id: string; kind: 'device' | 'token' }[]> {
    if (ids.length === 0) return [];
    const [devices, tokens] = await Promise.all([
      this.db
        .selectFrom('devices')
        .select(['id', 'centre_id'])
        .where('id', 'in', [...ids])
        .execute(),
      this.db
        .selectFrom('enrolment_tokens')
        .select(['device_id as id', 'centre_id'])
        .where('device_id', 'in', [...ids])
        .where('used_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .execute(),
    ]);
    return [
      ...devices.map((d) => ({ ...d, kind: 'device' as const })),
      ...tokens.map((t) => ({ ...t, kind: 'token' as const })),
    ];
  }

  /** Revoke an open token of a centre by its id (the first 16 hex digits of its hash). */
  async revokeToken(
    centreId: string,
    tokenId: string,
    now: string,
  ): Promise<'revoked' | 'closed' | 'unknown'> {
    const row = await this.db
      .selectFrom('enrolment_tokens')
      .select(['token_hash', 'used_at', 'revoked_at'])
      .where('centre_id', '=', centreId)
      .where('token_hash', 'like', `${tokenId}%`)
      .executeTakeFirst();
    if (!row) return 'unknown';
    if (row.used_at !== null || row.revoked_at !== null) return 'closed';
    await this.db
      .updateTable('enrolment_tokens')
      .set({ revoked_at: now })
      .where('token_hash', '=', row.token_hash)
      .where('used_at', 'is', null)
      .execute();
    return 'revoked';
  }

  /**
   * Enrol in one transaction: read the token's centre, build what the device will be sent
   * (`prepare` may refuse, and then nothing is spent), spend the token, save the device, and
   * expire every other open token of that device. The conditional update is the single-use
   * guarantee: of two concurrent enrolments with one token, only one updates a row.
   */
  async enrol<T>(
    tokenHash: string,
    now: string,
    device: Insertable<DevicesTable>,
    prepare: (centre: CentreRow, previous: DeviceRow | undefined) => T,
  ): Promise<EnrolOutcome<T> | 'spent'> {
    return this.db.transaction().execute(async (trx) => {
      const centre = await trx
        .selectFrom('centres')
        .selectAll()
        .where('id', '=', device.centre_id)
        .executeTakeFirstOrThrow();
      const previous = await trx
        .selectFrom('devices')
        .selectAll()
        .where('id', '=', device.id)
        .executeTakeFirst();
      const prepared = prepare(centre, previous);
      const spent = await trx
        .updateTable('enrolment_tokens')
        .set({ used_at: now })
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      if (Number(spent.numUpdatedRows) !== 1) return 'spent';
      // A re-flashed box enrols again under its id with a new key: the old key stops working.
      await trx
        .insertInto('devices')
        .values(device)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({
            display_name: device.display_name,
            public_key: device.public_key,
            enrolled_at: device.enrolled_at,
            updated_at: device.updated_at,
          }),
        )
        .execute();
      // A leftover token for this id must not let anyone replace the key the box now holds.
      const expired = await trx
        .updateTable('enrolment_tokens')
        .set({ revoked_at: now })
        .where('device_id', '=', device.id)
        .where('token_hash', '!=', tokenHash)
        .where('used_at', 'is', null)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return {
        outcome: 'enrolled' as const,
        previousKey: previous?.public_key,
        expiredTokens: Number(expired.numUpdatedRows),
        prepared,
      };
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

  async saveSnapshot(
    row: Insertable<SnapshotsTable>,
    table: 'snapshots' | 'screenshots' = 'snapshots',
  ): Promise<void> {
    await this.db
      .insertInto(table)
      .values(row)
      .onConflict((oc) =>
        oc
          .column('device_id')
          .doUpdateSet({ action_id: row.action_id, jpeg_base64: row.jpeg_base64, taken_at: row.taken_at }),
      )
      .execute();
  }

  findSnapshot(
    deviceId: string,
    table: 'snapshots' | 'screenshots' = 'snapshots',
  ): Promise<SnapshotRow | undefined> {
    return this.db.selectFrom(table).selectAll().where('device_id', '=', deviceId).executeTakeFirst();
  }

  async saveLogs(row: Insertable<DeviceLogsTable>): Promise<void> {
    await this.db
      .insertInto('device_logs')
      .values(row)
      .onConflict((oc) =>
        oc
          .column('device_id')
          .doUpdateSet({ action_id: row.action_id, lines_json: row.lines_json, taken_at: row.taken_at }),
      )
      .execute();
  }

  findLogs(deviceId: string): Promise<DeviceLogsRow | undefined> {
    return this.db.selectFrom('device_logs').selectAll().where('device_id', '=', deviceId).executeTakeFirst();
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

  listAdmins(): Promise<AdminRow[]> {
    return this.db.selectFrom('admins').selectAll().orderBy('name').execute();
  }

  /** False when no open credential has that name. */
  async revokeAdmin(name: string, now: string): Promise<boolean> {
    const result = await this.db
      .updateTable('admins')
      .set({ revoked_at: now })
      .where('name', '=', name)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  // Audit log

  async insertAudit(row: Insertable<AuditLogTable>): Promise<void> {
    await this.db.insertInto('audit_log').values(row).execute();
  }

  /** Newest first. */
  listAudit(limit: number): Promise<AuditRow[]> {
    return this.db
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  async countAdmins(): Promise<number> {
    const row = await this.db
      .selectFrom('admins')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
