import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';
import { required } from './requirements.js';

/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temp dir as user `postgres`, its own
 * port and socket dir, stopped by PID. Needs root (to run as `postgres`) and the Debian packages.
 */
export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  readonly url: string;
  /** A fresh database on the cluster, for one test file or suite. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** The newest PostgreSQL bin folder, or undefined when this machine has none (or we can't run it). */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root) || process.getuid?.() !== 0 || postgresUser() === undefined) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid && gid ? { uid: Number(uid), gid: Number(gid) } : undefined;
}

function run(bin: string, args: string[], user: { uid: number; gid: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { uid: user.uid, gid: user.gid, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${bin} exited ${code}: ${stderr.trim()}`)),
    );
  });
}

/** PostgreSQL can run here: in CI its absence fails the run (see `required`). */
export function hasPostgres(): boolean {
  return required('PostgreSQL (root and /usr/lib/postgresql/*/bin)', postgresBinDir() !== undefined);
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const user = postgresUser();
  if (!bin || !user)
    throw new Error('PostgreSQL is not available on this machine (needs root and /usr/lib/postgresql/*/bin)');
  const dir = mkdtempSync(join(tmpdir(), 'classbox-pg-'));
  chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  await run(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    user,
  );
  const port = await freePort();
  const server: ChildProcess = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'max_connections=50',
    ],
    { uid: user.uid, gid: user.gid, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  server.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const stop = async (): Promise<void> => {
    // Smart shutdown first (SIGTERM): it lets sessions that are closing finish. pg-pool's end()
    // resolves before its clients' sockets are closed, and a fast shutdown (SIGINT) then sent those
    // clients "terminating connection due to administrator command", an uncaught error in the test
    // run now and then. A session a test leaked still ends: fast shutdown after 5 s.
    if (server.exitCode === null && server.pid !== undefined) {
      process.kill(server.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const stopped = await Promise.race([
        exited.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 5000))),
      ]);
      clearTimeout(timer);
      if (!stopped && server.exitCode === null) process.kill(server.pid, 'SIGINT');
    }
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, server);
  } catch (error) {
    await stop();
    throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${log}`, { cause: error });
  }
  return {
    url,
    stop,
    async createDatabase(name: string): Promise<string> {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replace(/[^a-z0-9_]/g, '_')}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name.replace(/[^a-z0-9_]/g, '_')}`;
    },
  };
}

async function waitReady(url: string, server: ChildProcess): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 200; attempt++) {
    if (server.exitCode !== null) throw new Error(`postgres exited with code ${server.exitCode}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      lastError = error;
      await client.end().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`not accepting connections: ${String(lastError)}`);
}
