import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { fleetMigrations } from './migrations.js';
import type { FleetDatabase } from './schema.js';

export class DatabaseError extends Error {
  constructor(
    readonly code: 'E-DB-OPEN' | 'E-DB-MIGRATE',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DatabaseError';
  }
}

export type FleetDb = Kysely<FleetDatabase>;

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
  let db: FleetDb;
  try {
    db = isPostgresUrl(location)
      ? new Kysely<FleetDatabase>({
          dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: location, max: 10 }) }),
        })
      : new Kysely<FleetDatabase>({ dialect: new SqliteDialect({ database: openSqlite(location) }) });
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
  return db;
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
