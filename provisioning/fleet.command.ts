import { InvalidArgumentError, type Command } from 'commander';
import { reason } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { writeSeedFiles } from './adapters/seed-files.fs.js';
import { describeLocation, openFleetDatabase, type FleetDb } from './db/database.js';
import { parseDuration } from './domain/duration.js';
import { FleetApiError } from './fleet-errors.js';
import { FleetRepository } from './repositories/fleet.repository.js';
import { AdminAuthService } from './services/admin-auth.service.js';
import { CentresService } from './services/centres.service.js';
import { DesiredConfigService } from './services/desired-config.service.js';
import { EnrolmentService } from './services/enrolment.service.js';
import { SystemFleetClock, type FleetOptions } from './services/fleet-options.js';

const DEFAULT_PORT = 8480;

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('expected a TCP port from 0 to 65535');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number from 1');
  return n;
}

function duration(value: string): number {
  const seconds = parseDuration(value);
  if (seconds === undefined)
    throw new InvalidArgumentError('expected a duration such as 90s, 30m, 12h, 7d or 2w');
  return seconds;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function fail(command: string, message: string, code = 2): void {
  process.stderr.write(`classbox fleet ${command}: ${message}\n`);
  process.exitCode = code;
}

/** Open the database for a one-shot command; the caller closes it. */
async function withDatabase(
  command: string,
  location: string,
  work: (db: FleetDb) => Promise<void>,
): Promise<void> {
  let db: FleetDb;
  try {
    db = await openFleetDatabase(location);
  } catch (error) {
    return fail(command, `can't open database ${describeLocation(location)}: ${reason(error)}`, 1);
  }
  try {
    await work(db);
  } catch (error) {
    if (error instanceof FleetApiError) return fail(command, error.message, error.status >= 500 ? 1 : 2);
    throw error;
  } finally {
    await db.destroy();
  }
}

function services(db: FleetDb, publicUrl = 'http://127.0.0.1') {
  const clock = new SystemFleetClock();
  const options: FleetOptions = { publicUrl, offlineAfterSec: 90, clockSkewSec: 120, enrolPerMinute: 20 };
  const repo = new FleetRepository({ db });
  const centres = new CentresService(repo, clock);
  const enrolment = new EnrolmentService(repo, centres, new DesiredConfigService(repo), clock, options);
  return { repo, centres, enrolment, admins: new AdminAuthService(repo, clock) };
}

export function registerFleetCommands(program: Command): void {
  const fleet = program.command('fleet').description('the fleet server: boxes, centres, enrolment');

  fleet
    .command('serve')
    .description('run the fleet server in the foreground')
    .requiredOption(
      '--db <file|url>',
      'SQLite file path or postgres:// URL ($CLASSBOX_FLEET_DB)',
      process.env.CLASSBOX_FLEET_DB,
    )
    .option('--port <port>', 'TCP port', port, DEFAULT_PORT)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--public-url <url>', 'URL the boxes reach this server at (written into enrolment files)')
    .option('--offline-after <duration>', 'a box without heartbeat for this long is offline', duration, 90)
    .option(
      '--enrol-per-minute <n>',
      'enrolment attempts allowed per client address per minute',
      positive,
      20,
    )
    .option('--trust-proxy', 'behind a TLS reverse proxy: take client addresses from X-Forwarded-For')
    .option(
      '--releases-dir <dir>',
      'where release payloads are kept (default: releases/ beside the SQLite file)',
    )
    .action(
      async (options: {
        releasesDir?: string;
        db: string;
        port: number;
        host: string;
        publicUrl?: string;
        offlineAfter: number;
        enrolPerMinute: number;
        trustProxy?: boolean;
      }) => {
        const log = createLogger('FleetServer');
        const { startFleetServer } = await import('./fleet-server.js');
        let server;
        try {
          server = await startFleetServer({
            db: options.db,
            port: options.port,
            host: options.host,
            publicUrl: options.publicUrl,
            offlineAfterSec: options.offlineAfter,
            enrolPerMinute: options.enrolPerMinute,
            trustProxy: options.trustProxy === true,
            releasesDir: options.releasesDir,
            firstAdminToken: process.env.CLASSBOX_FLEET_ADMIN_TOKEN,
          });
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          const why = code === 'EADDRINUSE' ? `port ${options.port} is already in use` : reason(error);
          log.error(`Can't start fleet server: ${why}`);
          return fail('serve', why, 1);
        }
        const signal = await new Promise<NodeJS.Signals>((resolve) => {
          process.once('SIGTERM', () => resolve('SIGTERM'));
          process.once('SIGINT', () => resolve('SIGINT'));
        });
        log.info(`Stopping fleet server signal=${signal}`);
        await server.stop();
      },
    );

  const admin = fleet.command('admin').description('admin credentials');
  admin
    .command('create')
    .description('create an admin credential and print its bearer token (shown only this once)')
    .requiredOption('--db <file|url>', 'SQLite file path or postgres:// URL', process.env.CLASSBOX_FLEET_DB)
    .requiredOption('--name <name>', 'who or what the credential is for, e.g. "it" or "flash-tool"')
    .action(async (options: { db: string; name: string }) => {
      await withDatabase('admin create', options.db, async (db) => {
        const token = await services(db).admins.create(options.name);
        process.stdout.write(`${token}\n`);
        process.stderr.write('Keep this token safe: it is shown only once and gives full admin access.\n');
      });
    });

  const centre = fleet.command('centre').description('tutorial centres');
  centre
    .command('create')
    .description('create a centre with its class room')
    .requiredOption('--db <file|url>', 'SQLite file path or postgres:// URL', process.env.CLASSBOX_FLEET_DB)
    .requiredOption('--id <id>', 'centre id, e.g. jx-ruijin')
    .requiredOption('--name <name>', 'centre name, e.g. 瑞金教学点')
    .requiredOption('--region <region>', 'region, e.g. 江西')
    .requiredOption('--janus-url <url>', 'the Janus WebSocket URL, e.g. wss://janus.example.cn')
    .requiredOption('--room <number>', 'the videoroom number', positive)
    .action(
      async (options: {
        db: string;
        id: string;
        name: string;
        region: string;
        janusUrl: string;
        room: number;
      }) => {
        const { createCentreSchema } = await import('./protocol/admin-api.schema.js');
        const parsed = createCentreSchema.safeParse({
          id: options.id,
          name: options.name,
          region: options.region,
          room: { janusUrl: options.janusUrl, room: options.room },
        });
        if (!parsed.success) {
          return fail(
            'centre create',
            parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
          );
        }
        await withDatabase('centre create', options.db, async (db) => {
          await services(db).centres.create(parsed.data);
          process.stdout.write(`Created centre ${options.id}\n`);
        });
      },
    );

  const token = fleet.command('token').description('enrolment tokens');
  token
    .command('create')
    .description('mint single-use enrolment tokens and write one enrolment file per box for flashing')
    .requiredOption('--db <file|url>', 'SQLite file path or postgres:// URL', process.env.CLASSBOX_FLEET_DB)
    .requiredOption('--centre <id>', 'the centre the boxes belong to')
    .option('--count <n>', 'how many boxes', positive, 1)
    .option('--expires <duration>', 'how long the tokens stay valid, e.g. 7d', duration, 7 * 86_400)
    .option('--device-id <id>', 'name the box (repeat for several; default <centre>-01, -02, …)', collect)
    .option(
      '--fleet-url <url>',
      'URL the boxes reach the fleet server at ($CLASSBOX_FLEET_URL)',
      process.env.CLASSBOX_FLEET_URL,
    )
    .option('--out <dir>', 'where to write <deviceId>/classbox-enrol.json', 'enrolment')
    .action(
      async (options: {
        db: string;
        centre: string;
        count: number;
        expires: number;
        deviceId?: string[];
        fleetUrl?: string;
        out: string;
      }) => {
        if (!options.fleetUrl)
          return fail(
            'token create',
            'pass --fleet-url (or set CLASSBOX_FLEET_URL): the boxes need it to enrol',
          );
        const { mintTokensSchema } = await import('./protocol/admin-api.schema.js');
        const count = options.deviceId?.length ?? options.count;
        const input = mintTokensSchema.safeParse({
          count,
          expiresInSeconds: options.expires,
          deviceIds: options.deviceId,
        });
        if (!input.success)
          return fail(
            'token create',
            input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
          );
        await withDatabase('token create', options.db, async (db) => {
          const minted = await services(db, options.fleetUrl).enrolment.mint(
            options.centre,
            input.data,
            options.fleetUrl,
          );
          const files = await writeSeedFiles(
            options.out,
            minted.map((m) => m.seed),
          );
          minted.forEach((m, i) =>
            process.stdout.write(`${m.deviceId}\t${files[i]}\texpires ${m.expiresAt}\n`),
          );
        });
      },
    );
}
