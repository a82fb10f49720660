import { Injectable } from '@nestjs/common';
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { FleetDb } from '../db/database.js';
import type { FleetDatabase } from '../db/schema.js';
import type { OverviewQuery, OverviewSort } from '../protocol/overview-api.schema.js';
import { FleetDbHandle, type DeviceRow } from './fleet.repository.js';

export type OverviewDeviceRow = DeviceRow & { centre_name: string; region: string };

export interface CountsRow {
  centres: number;
  boxes: number;
  online: number;
  in_class: number;
  attention: number;
}

export interface GroupRow extends CountsRow {
  /** The region, or the centre's id. */
  key: string;
  name: string;
  problem: number;
  update_failed: number;
}

type Eb = ExpressionBuilder<
  FleetDatabase & { d: FleetDatabase['devices']; c: FleetDatabase['centres'] },
  'd' | 'c'
>;

/*
 * The status of a box in SQL, the same on SQLite and PostgreSQL. `health_json` and `update_json` are
 * written by JSON.stringify of a parsed heartbeat, so `"status":"missing"` appears unescaped only as a
 * health entry's own status: a quote inside a detail string is stored escaped (`\"`) and can't match.
 */
const online = (offlineBefore: string) =>
  sql<SqlBool>`(d.last_seen_at IS NOT NULL AND d.last_seen_at >= ${offlineBefore})`;
const inClass = (offlineBefore: string) =>
  sql<SqlBool>`(${online(offlineBefore)} AND d.state IN ('live', 'reconnecting'))`;
const problem = sql<SqlBool>`(d.error_code IS NOT NULL OR d.health_json LIKE '%"status":"missing"%' OR d.health_json LIKE '%"status":"error"%')`;
const updateFailed = sql<SqlBool>`(d.update_json LIKE '%"state":"failed"%' OR d.update_json LIKE '%"state":"rolled-back"%')`;
const attention = (offlineBefore: string) =>
  sql<SqlBool>`(NOT ${online(offlineBefore)} OR ${problem} OR ${updateFailed})`;
const count = (condition: Expression<SqlBool>) =>
  sql<number | string>`SUM(CASE WHEN ${condition} THEN 1 ELSE 0 END)`;

/** `%` and `_` typed by IT are searched for, not wildcards. */
function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The overview's queries: a page of boxes with their centre, chosen, counted and sorted in the
 * database (indexes in migration 0005), and the fleet's counts. Stateless, like every repository.
 */
@Injectable()
export class OverviewRepository {
  constructor(private readonly handle: FleetDbHandle) {}

  private get db(): FleetDb {
    return this.handle.db;
  }

  async page(
    query: OverviewQuery,
    offlineBefore: string,
  ): Promise<{ total: number; rows: OverviewDeviceRow[] }> {
    const base = this.db
      .selectFrom('devices as d')
      .innerJoin('centres as c', 'c.id', 'd.centre_id')
      .where((eb) => this.filters(eb as unknown as Eb, query, offlineBefore));
    const totalRow = await base
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    let rows = base.selectAll('d').select(['c.name as centre_name', 'c.region as region']);
    for (const key of this.order(query.sort, offlineBefore)) rows = rows.orderBy(key, query.dir);
    const list = await rows
      .limit(query.pageSize)
      .offset((query.page - 1) * query.pageSize)
      .execute();
    return { total: Number(totalRow.n), rows: list as OverviewDeviceRow[] };
  }

  async summary(offlineBefore: string): Promise<CountsRow> {
    const [devices, centres] = await Promise.all([
      this.db
        .selectFrom('devices as d')
        .select([
          sql<number | string>`COUNT(*)`.as('boxes'),
          count(online(offlineBefore)).as('online'),
          count(inClass(offlineBefore)).as('in_class'),
          count(attention(offlineBefore)).as('attention'),
        ])
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom('centres')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return {
      centres: Number(centres.n),
      boxes: Number(devices.boxes),
      online: Number(devices.online ?? 0),
      in_class: Number(devices.in_class ?? 0),
      attention: Number(devices.attention ?? 0),
    };
  }

  /**
   * The fleet grouped by region, or the centres of one region, with their counts; a centre without
   * boxes still counts as a centre.
   */
  async groups(offlineBefore: string, region?: string): Promise<GroupRow[]> {
    const byCentre = region !== undefined;
    let query = this.db
      .selectFrom('centres as c')
      .leftJoin('devices as d', 'd.centre_id', 'c.id')
      .select([
        sql<string>`${byCentre ? sql`c.id` : sql`c.region`}`.as('key'),
        sql<string>`${byCentre ? sql`c.name` : sql`c.region`}`.as('name'),
        sql<number | string>`COUNT(DISTINCT c.id)`.as('centres'),
        sql<number | string>`COUNT(d.id)`.as('boxes'),
        count(sql<SqlBool>`d.id IS NOT NULL AND ${online(offlineBefore)}`).as('online'),
        count(sql<SqlBool>`d.id IS NOT NULL AND ${inClass(offlineBefore)}`).as('in_class'),
        count(sql<SqlBool>`d.id IS NOT NULL AND ${problem}`).as('problem'),
        count(sql<SqlBool>`d.id IS NOT NULL AND ${updateFailed}`).as('update_failed'),
        count(sql<SqlBool>`d.id IS NOT NULL AND ${attention(offlineBefore)}`).as('attention'),
      ]);
    query = byCentre
      ? query.where('c.region', '=', region).groupBy(['c.id', 'c.name']).orderBy('c.name').orderBy('c.id')
      : query.groupBy('c.region').orderBy('c.region');
    const rows = await query.execute();
    const n = (v: number | string | null) => Number(v ?? 0);
    return rows.map((r) => ({
      key: r.key,
      name: r.name,
      centres: n(r.centres),
      boxes: n(r.boxes),
      online: n(r.online),
      in_class: n(r.in_class),
      problem: n(r.problem),
      update_failed: n(r.update_failed),
      attention: n(r.attention),
    }));
  }

  async versions(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('devices')
      .select('version')
      .distinct()
      .where('version', 'is not', null)
      .orderBy('version')
      .limit(100)
      .execute();
    return rows.map((r) => r.version!);
  }

  private filters(eb: Eb, query: OverviewQuery, offlineBefore: string): Expression<SqlBool> {
    const all: Expression<SqlBool>[] = [];
    if (query.q) {
      const p = likePattern(query.q);
      all.push(
        sql<SqlBool>`(lower(d.id) LIKE ${p} ESCAPE '\\' OR lower(d.display_name) LIKE ${p} ESCAPE '\\'
          OR lower(c.id) LIKE ${p} ESCAPE '\\' OR lower(c.name) LIKE ${p} ESCAPE '\\'
          OR lower(c.region) LIKE ${p} ESCAPE '\\')`,
      );
    }
    if (query.region) all.push(eb('c.region', '=', query.region));
    if (query.centre) all.push(eb('d.centre_id', '=', query.centre));
    if (query.version) all.push(eb('d.version', '=', query.version));
    switch (query.status) {
      case undefined:
        break;
      case 'online':
        all.push(online(offlineBefore));
        break;
      case 'offline':
        all.push(sql<SqlBool>`NOT ${online(offlineBefore)}`);
        break;
      case 'in-class':
        all.push(inClass(offlineBefore));
        break;
      case 'problem':
        all.push(problem);
        break;
      case 'update-failed':
        all.push(updateFailed);
        break;
    }
    return eb.and(all);
  }

  /** Sort keys; the box id last, so pages never overlap or skip a box. */
  private order(sort: OverviewSort, offlineBefore: string): Expression<unknown>[] {
    const id = sql`d.id`;
    switch (sort) {
      case 'box':
        return [id];
      case 'centre':
        return [sql`c.name`, sql`c.id`, id];
      case 'region':
        return [sql`c.region`, sql`c.name`, id];
      case 'last-seen':
        return [sql`COALESCE(d.last_seen_at, '')`, id];
      case 'version':
        return [sql`COALESCE(d.version, '')`, id];
      case 'status':
        // Trouble first when ascending: offline, then a problem, then a failed update, then in class.
        return [
          sql`CASE WHEN NOT ${online(offlineBefore)} THEN 0 WHEN ${problem} THEN 1 WHEN ${updateFailed} THEN 2
                   WHEN ${inClass(offlineBefore)} THEN 3 ELSE 4 END`,
          id,
        ];
    }
  }
}
