import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { hasPostgres, startPostgres, type TestPostgres } from './postgres.js';
import { required } from './requirements.js';

/** Where a suite's fleet database lives: a SQLite file, or a database on a throwaway PostgreSQL. */
export interface FleetDatabaseChoice {
  name: 'SQLite' | 'PostgreSQL';
  /** PostgreSQL is missing here: its suite is skipped and counted (in CI, the run fails). */
  available?: boolean;
  /** A fresh, empty database for one suite: a file path or a postgres:// URL. */
  location(): Promise<string>;
  /** Removes a SQLite database's folder (a PostgreSQL one goes with its cluster). */
  remove(location: string): void;
}

/**
 * The databases a fleet suite runs on, for `describeEach` (test/helpers/requirements.ts): SQLite always,
 * and PostgreSQL, marked unavailable where its packages are missing (a counted skip; in CI a failure). Call at a test file's top level:
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
  databases.push({
    name: 'PostgreSQL',
    available: required('PostgreSQL', hasPostgres()),
    location: async () => {
      postgres ??= await startPostgres();
      return postgres.createDatabase(`fleet_${label.replace(/\W/g, '_')}_${Date.now()}`);
    },
    remove: () => undefined,
  });
  afterAll(async () => {
    await postgres?.stop();
  });
  return databases;
}
