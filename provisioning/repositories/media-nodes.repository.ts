import { Injectable } from '@nestjs/common';
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { FleetDb } from '../db/database.js';
import type { ClassPlacementsTable, MediaNodesTable } from '../db/schema.js';
import { FleetDbHandle } from './fleet.repository.js';

export type MediaNodeRow = Selectable<MediaNodesTable>;
export type PlacementRow = Selectable<ClassPlacementsTable>;

/** A centre not placed yet: its id, region, name and room settings (as stored). */
export interface UnplacedCentre {
  id: string;
  name: string;
  region: string;
  room_json: string;
}

/**
 * The media nodes and the classes' placements (issue 19). Every write that moves a class is
 * conditional on where the class was, so replicas that see a node die together move it once.
 */
@Injectable()
export class MediaNodesRepository {
  constructor(private readonly handle: FleetDbHandle) {}

  private get db(): FleetDb {
    return this.handle.db;
  }

  listNodes(): Promise<MediaNodeRow[]> {
    return this.db.selectFrom('media_nodes').selectAll().orderBy('id').execute();
  }

  findNode(id: string): Promise<MediaNodeRow | undefined> {
    return this.db.selectFrom('media_nodes').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** False when a node with that id exists already. */
  async insertNode(row: Insertable<MediaNodesTable>): Promise<boolean> {
    const result = await this.db
      .insertInto('media_nodes')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async updateNode(id: string, patch: Updateable<MediaNodesTable>): Promise<void> {
    await this.db.updateTable('media_nodes').set(patch).where('id', '=', id).execute();
  }

  async deleteNode(id: string): Promise<void> {
    await this.db.deleteFrom('media_nodes').where('id', '=', id).execute();
  }

  listPlacements(): Promise<PlacementRow[]> {
    return this.db.selectFrom('class_placements').selectAll().orderBy('class_id').execute();
  }

  findPlacement(classId: string): Promise<PlacementRow | undefined> {
    return this.db
      .selectFrom('class_placements')
      .selectAll()
      .where('class_id', '=', classId)
      .executeTakeFirst();
  }

  /** False when the class was placed meanwhile (by another replica). */
  async insertPlacement(row: PlacementRow): Promise<boolean> {
    const result = await this.db
      .insertInto('class_placements')
      .values(row)
      .onConflict((oc) => oc.column('class_id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** Move a class, only if it is still where `from` says (its node and fallbacks): false when not. */
  async movePlacement(from: PlacementRow, to: PlacementRow): Promise<boolean> {
    const result = await this.db
      .updateTable('class_placements')
      .set({
        node_id: to.node_id,
        fallback_ids_json: to.fallback_ids_json,
        urls_json: to.urls_json,
        placed_at: to.placed_at,
      })
      .where('class_id', '=', from.class_id)
      .where('node_id', '=', from.node_id)
      .where('fallback_ids_json', '=', from.fallback_ids_json)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Centres whose class has no placement yet. */
  unplacedCentres(): Promise<UnplacedCentre[]> {
    return this.db
      .selectFrom('centres')
      .leftJoin('class_placements', 'class_placements.class_id', 'centres.id')
      .select(['centres.id', 'centres.name', 'centres.region', 'centres.room_json'])
      .where('class_placements.class_id', 'is', null)
      .orderBy('centres.id')
      .execute();
  }

  /** The centres of these classes (their region and room), by id. */
  centresOf(ids: readonly string[]): Promise<UnplacedCentre[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('centres')
      .select(['id', 'name', 'region', 'room_json'])
      .where('id', 'in', [...ids])
      .execute();
  }
}
