import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, it } from 'vitest';
import { postgresBinDir, startPostgres, type TestPostgres } from './postgres.js';

/** Where a suite's fleet database lives: a SQLite file, or a database on a throwaway PostgreSQL. */
export interface FleetDatabaseChoice {
  name: 'SQLite' | 'PostgreSQL';
  /** A fresh, empty database for one suite: a file path or a postgres:// URL. */
  location(): Promise<string>;
  /** Removes a SQLite database's folder (a PostgreSQL one goes with its cluster). */
  remove(location: string): void;
}

/**
 * The databases a fleet suite runs on, for `describe.each`: SQLite always, and PostgreSQL where its
 * packages are installed (else a skipped test says it did not run). Call at a test file's top level:
 * it registers the cluster's stop after the file. `label` names the temp folders and databases.
 */
export function fleetDatabases(label: string): FleetDatabaseChoice[] {
  let postgres: TestPostgres | undefined;
  const databases: FleetDatabaseChoice[] = [
    {
      name: 'SQLite',
      location: async () => join(mkdtempSync(join(tmpdir(), `classbox-${label}-`)), 'fleet.db'),
      remove: (location) => rmSync(join(location, '..'), { recursive: true, force: true }),
    },
  ];
  if (postgresBinDir()) {
    databases.push({
      name: 'PostgreSQL',
      location: async () => {
        postgres ??= await startPostgres();
        return postgres.createDatabase(`fleet_${label.replace(/\W/g, '_')}_${Date.now()}`);
      },
      remove: () => undefined,
    });
  } else {
    it.skip(`runs the ${label} suite on PostgreSQL (not installed here)`, () => undefined);
  }
  afterAll(async () => {
    await postgres?.stop();
  });
  return databases;
}
