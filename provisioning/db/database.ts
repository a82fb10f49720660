import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { fleetMigrations } from './migrations.js';
import type { FleetDatabase } from './schema.js';
import { ClassboxError } from '../../common/errors.js';

export class DatabaseError extends ClassboxError<'E-DB-OPEN' | 'E-DB-MIGRATE'> {}

export type FleetDb = Kysely<FleetDatabase>;

/**
 * The driver under Kysely, for the few statements of the heartbeat hot path that are prepared once
 * and reused (Kysely prepares every statement anew). Only `repositories/*.sqlite|postgres.ts` use it.
 */
export type RawFleetDb =
  | { readonly kind: 'sqlite'; readonly sqlite: BetterSqlite3.Database }
  | { readonly kind: 'postgres'; readonly pool: pg.Pool };

/** The open database: Kysely for every query, and its driver for the hot path. */
export interface FleetStore {
  readonly db: FleetDb;
  readonly raw: RawFleetDb;
}

/** `postgres://…` or `postgresql://…` is PostgreSQL; anything else is a SQLite file path. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}

/** A database location for logs: the password of a URL is never shown. */
export function describeLocation(location: string): string {
  if (!isPostgresUrl(location)) return location;
  try {
    const url = new URL(location);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** Open the database and bring its schema up to date. */
export async function openFleetDatabase(location: string): Promise<FleetDb> {
  return (await openFleetStore(location)).db;
}

/** Open the database, bring its schema up to date, and keep its driver at hand for the hot path. */
export async function openFleetStore(location: string): Promise<FleetStore> {
  let db: FleetDb;
  let raw: RawFleetDb;
  try {
    if (isPostgresUrl(location)) {
      const pool = new pg.Pool({ connectionString: location, max: 10 });
      raw = { kind: 'postgres', pool };
      db = new Kysely<FleetDatabase>({ dialect: new PostgresDialect({ pool }) });
    } else {
      const sqlite = openSqlite(location);
      raw = { kind: 'sqlite', sqlite };
      db = new Kysely<FleetDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
    }
  } catch (error) {
    throw new DatabaseError('E-DB-OPEN', `can't open database ${describeLocation(location)}`, {
      cause: error,
    });
  }
  try {
    await migrate(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw error;
  }
  return { db, raw };
}

function openSqlite(file: string): BetterSqlite3.Database {
  const sqlite = new BetterSqlite3(file);
  // WAL lets the dashboard read while heartbeats write; busy_timeout rides out the CLI writing at the same time.
  sqlite.pragma('journal_mode = WAL');
  // In WAL mode NORMAL still never corrupts the database; a power cut may lose the last heartbeats,
  // which the boxes send again anyway. FULL waited for a disk sync on every heartbeat (see the bench).
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return sqlite;
}

async function migrate(db: FleetDb): Promise<void> {
  // The migrator takes a lock (an advisory lock on PostgreSQL), so replicas starting together are safe.
  const { error, results } = await new Migrator({ db, provider: fleetMigrations }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new DatabaseError('E-DB-MIGRATE', `can't migrate the database (migration ${failed})`, {
      cause: error,
    });
  }
}
