import { InvalidArgumentError, type Command } from 'commander';
import { userInfo } from 'node:os';
import { reason } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { writeSeedFiles } from './adapters/seed-files.fs.js';
import { readReleaseKeys } from './adapters/release-keys.fs.js';
import { describeLocation, openFleetDatabase, type FleetDb } from './db/database.js';
import { parseTrustProxy } from './domain/trust-proxy.js';
import { parseDurationWithin, TOKEN_LIFETIME } from './domain/duration.js';
import { FleetApiError } from './fleet-errors.js';
import { FleetRepository } from './repositories/fleet.repository.js';
import { AdminAuthService, generateAdminToken } from './services/admin-auth.service.js';
import { AuditService } from './services/audit.service.js';
import { CentresService } from './services/centres.service.js';
import { DesiredConfigService } from './services/desired-config.service.js';
import { EnrolmentService } from './services/enrolment.service.js';
import { HttpMediaNodeAdmin } from './adapters/media-node-admin.http.js';
import { MediaNodesRepository } from './repositories/media-nodes.repository.js';
import { ClassPlacementService } from './services/class-placement.service.js';
import { MediaNodesService } from './services/media-nodes.service.js';
import { DEFAULT_MAX_RELEASE_BYTES, SystemFleetClock, type FleetOptions } from './services/fleet-options.js';

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

/** A commander parser for a duration within bounds (the same rules as `flash --expires-in`). */
function durationWithin(bounds: { minSeconds: number; maxSeconds: number }): (value: string) => number {
  return (value) => {
    try {
      return parseDurationWithin(value, bounds);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

/** Shorter than a few heartbeats would mark healthy boxes offline. */
const OFFLINE_AFTER = { minSeconds: 10, maxSeconds: 7 * 86_400 };
/** An admin credential lives 1 minute to 5 years (`createAdminSchema`). */
const ADMIN_LIFETIME = { minSeconds: 60, maxSeconds: 5 * 365 * 86_400 };

function trustProxy(value: string): readonly string[] | number {
  const parsed = parseTrustProxy(value);
  if (parsed === undefined)
    throw new InvalidArgumentError(
      "expected the proxy's addresses or CIDRs, comma-separated (e.g. 127.0.0.1 or 10.0.0.0/8), or a hop count (e.g. 1)",
    );
  return parsed;
}

function bytes(value: string): number {
  const match = /^(\d{1,15})([KMG]i?B?)?$/i.exec(value.trim());
  const unit = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match?.[2]?.[0] ?? '').toLowerCase()] ?? 1;
  const n = match ? Number(match[1]) * unit : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a size such as 500M or 2G');
  return n;
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

function services(db: FleetDb, publicUrl = 'http://127.0.0.1', allowInsecureHttp = false) {
  const clock = new SystemFleetClock();
  const options: FleetOptions = {
    publicUrl,
    offlineAfterSec: 90,
    clockSkewSec: 120,
    enrolPerMinute: 20,
    allowInsecureHttp,
    adminFailureLimit: 10,
    adminFailureWindowSec: 300,
    maxReleaseBytes: DEFAULT_MAX_RELEASE_BYTES,
    trustedReleaseKeys: [],
    // The CLI's one-off commands run no timers: the history is kept by `fleet serve`.
    history: false,
  };
  const repo = new FleetRepository({ db });
  const centres = new CentresService(repo, clock);
  const enrolment = new EnrolmentService(repo, centres, new DesiredConfigService(repo), clock, options);
  const nodeRepo = new MediaNodesRepository({ db });
  return {
    repo,
    centres,
    enrolment,
    nodes: new MediaNodesService(
      nodeRepo,
      new ClassPlacementService(nodeRepo, new HttpMediaNodeAdmin(), clock),
      clock,
    ),
    admins: new AdminAuthService(repo, clock, options),
    audit: new AuditService(repo, clock),
  };
}

/** Who runs the CLI on the server, for the audit log. */
function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:uid-${process.getuid?.() ?? '?'}`;
  }
}

/** Run an admin action of the CLI and record it in the audit log, refused or not. */
async function audited(
  db: FleetDb,
  action: string,
  target: string,
  work: () => Promise<void>,
): Promise<void> {
  const audit = services(db).audit;
  try {
    await work();
  } catch (error) {
    const outcome = error instanceof FleetApiError ? error.code : 'error';
    await audit.record({ actor: cliActor(), action: `cli: fleet ${action}`, target, outcome });
    throw error;
  }
  await audit.record({ actor: cliActor(), action: `cli: fleet ${action}`, target, outcome: 'ok' });
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
    .option(
      '--offline-after <duration>',
      'a box without heartbeat for this long is offline',
      durationWithin(OFFLINE_AFTER),
      90,
    )
    .option(
      '--enrol-per-minute <n>',
      'enrolment attempts allowed per client address per minute',
      positive,
      20,
    )
    .option(
      '--trust-proxy <proxies|hops>',
      "behind a TLS reverse proxy: the proxy's addresses/CIDRs (comma-separated) or the number of proxy hops; client addresses then come from X-Forwarded-For as far as those proxies vouch for it",
      trustProxy,
    )
    .option(
      '--release-keys <dir|file>',
      'release public keys (*.pem) a manifest must be signed with to be registered (the keys the boxes trust)',
    )
    .option('--max-release-bytes <size>', 'the largest release payload accepted, e.g. 2G', bytes)
    .option(
      '--admin-failures <n>',
      'failed admin sign-ins per client address per 5 minutes before it gets 429s',
      positive,
      10,
    )
    .option(
      '--allow-insecure-http',
      'development only: write enrolment seeds with an http:// public URL on a non-loopback host',
    )
    .option(
      '--no-history',
      "don't keep the boxes' vitals as history (per minute 7 days, per hour 180 days); the plots stay empty",
    )
    .option(
      '--releases-dir <dir>',
      'where release payloads are kept (default: releases/ beside the SQLite file)',
    )
    .option(
      '--recordings-dir <dir>',
      "the media node's recordings, <dir>/room-<room>/ (its rooms' rec_dir), cut for boxes' catch-up (default: recordings/ beside the SQLite file)",
    )
    .option('--recordings-keep-hours <n>', 'how long recordings and their cuts are kept', positive, 72)
    .action(
      async (options: {
        releasesDir?: string;
        recordingsDir?: string;
        recordingsKeepHours: number;
        db: string;
        port: number;
        host: string;
        publicUrl?: string;
        offlineAfter: number;
        enrolPerMinute: number;
        trustProxy?: readonly string[] | number;
        releaseKeys?: string;
        maxReleaseBytes?: number;
        adminFailures: number;
        allowInsecureHttp?: boolean;
        history: boolean;
      }) => {
        const log = createLogger('FleetServer');
        const { startFleetServer } = await import('./fleet-server.js');
        let trustedReleaseKeys: string[] | undefined;
        if (options.releaseKeys !== undefined) {
          try {
            trustedReleaseKeys = await readReleaseKeys(options.releaseKeys);
          } catch (error) {
            return fail('serve', `--release-keys: ${reason(error)}`);
          }
        }
        let server;
        try {
          server = await startFleetServer({
            db: options.db,
            port: options.port,
            host: options.host,
            publicUrl: options.publicUrl,
            offlineAfterSec: options.offlineAfter,
            enrolPerMinute: options.enrolPerMinute,
            trustProxy: options.trustProxy,
            trustedReleaseKeys,
            maxReleaseBytes: options.maxReleaseBytes,
            adminFailureLimit: options.adminFailures,
            allowInsecureHttp: options.allowInsecureHttp === true,
            releasesDir: options.releasesDir,
            recordingsDir: options.recordingsDir,
            recordingsKeepHours: options.recordingsKeepHours,
            history: options.history,
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
    .option(
      '--expires <duration>',
      'valid for this long, e.g. 90d (default: until revoked)',
      durationWithin(ADMIN_LIFETIME),
    )
    .action(async (options: { db: string; name: string; expires?: number }) => {
      await withDatabase('admin create', options.db, async (db) => {
        let token = '';
        await audited(db, 'admin create', options.name, async () => {
          token = await services(db).admins.create(options.name, { expiresInSeconds: options.expires });
        });
        process.stdout.write(`${token}\n`);
        process.stderr.write('Keep this token safe: it is shown only once and gives full admin access.\n');
      });
    });
  admin
    .command('new-token')
    .description('print a freshly generated admin credential (e.g. for CLASSBOX_FLEET_ADMIN_TOKEN)')
    .action(() => {
      process.stdout.write(`${generateAdminToken()}\n`);
    });
  admin
    .command('list')
    .description('list admin credentials: name, created, expires, status (never the tokens)')
    .requiredOption('--db <file|url>', 'SQLite file path or postgres:// URL', process.env.CLASSBOX_FLEET_DB)
    .action(async (options: { db: string }) => {
      await withDatabase('admin list', options.db, async (db) => {
        for (const a of await services(db).admins.list())
          process.stdout.write(
            `${a.name}\t${a.status}\tcreated ${a.createdAt}\texpires ${a.expiresAt ?? '-'}\n`,
          );
      });
    });
  admin
    .command('revoke')
    .description('revoke an admin credential at once')
    .requiredOption('--db <file|url>', 'SQLite file path or postgres:// URL', process.env.CLASSBOX_FLEET_DB)
    .requiredOption('--name <name>', 'the credential to revoke')
    .action(async (options: { db: string; name: string }) => {
      await withDatabase('admin revoke', options.db, async (db) => {
        await audited(db, 'admin revoke', options.name, () => services(db).admins.revoke(options.name));
        process.stdout.write(`Revoked admin ${options.name}\n`);
      });
    });

  fleet
    .command('audit')
    .description('print the audit log: every admin action with who did it, newest first')
    .requiredOption('--db <file|url>', 'SQLite file path or postgres:// URL', process.env.CLASSBOX_FLEET_DB)
    .option('--limit <n>', 'how many entries', positive, 100)
    .option('--json', 'one JSON object per line')
    .action(async (options: { db: string; limit: number; json?: boolean }) => {
      await withDatabase('audit', options.db, async (db) => {
        for (const e of await services(db).audit.list(options.limit)) {
          process.stdout.write(
            options.json
              ? `${JSON.stringify(e)}\n`
              : `${e.at}\t${e.actor}\t${e.action}\t${e.target}\t${e.outcome}\t${e.client ?? '-'}\n`,
          );
        }
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
          await audited(db, 'centre create', options.id, async () => {
            await services(db).centres.create(parsed.data);
          });
          process.stdout.write(`Created centre ${options.id}\n`);
        });
      },
    );

  const node = fleet.command('node').description('media nodes: the Janus servers classes are placed on');
  node
    .command('add')
    .description('register a Janus server; `fleet serve` checks it every 2 s and places classes on it')
    .requiredOption('--db <file|url>', 'SQLite file path or postgres:// URL', process.env.CLASSBOX_FLEET_DB)
    .requiredOption('--id <id>', 'node id, e.g. bj-1')
    .requiredOption(
      '--ws-url <url>',
      'the WebSocket URL boxes and teachers join, e.g. wss://janus1.example.cn',
    )
    .requiredOption('--admin-url <url>', "Janus's admin API over HTTP, e.g. http://10.0.0.5:7088/admin")
    .option(
      '--admin-secret-env <name>',
      "the environment variable holding the admin API's secret (never on the command line)",
    )
    .requiredOption('--region <region>', 'region, e.g. 江西 (classes of this region go here first)')
    .requiredOption('--capacity <n>', 'how many classes (videorooms) it carries', positive)
    .option(
      '--recordings-dir <dir>',
      "where the node's Janus writes the teacher's recordings, a path on the node (catch-up); rooms record into <dir>/room-<room>",
    )
    .action(
      async (options: {
        db: string;
        id: string;
        wsUrl: string;
        adminUrl: string;
        adminSecretEnv?: string;
        region: string;
        capacity: number;
        recordingsDir?: string;
      }) => {
        let adminSecret: string | undefined;
        if (options.adminSecretEnv !== undefined) {
          adminSecret = process.env[options.adminSecretEnv];
          if (!adminSecret)
            return fail('node add', `--admin-secret-env: ${options.adminSecretEnv} is not set or empty`);
        }
        const { createMediaNodeSchema } = await import('./protocol/admin-api.schema.js');
        const parsed = createMediaNodeSchema.safeParse({
          id: options.id,
          wsUrl: options.wsUrl,
          adminUrl: options.adminUrl,
          adminSecret,
          region: options.region,
          capacity: options.capacity,
          recordingsDir: options.recordingsDir,
        });
        if (!parsed.success)
          return fail(
            'node add',
            parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
          );
        await withDatabase('node add', options.db, async (db) => {
          await audited(db, 'node add', options.id, async () => {
            await services(db).nodes.create(parsed.data);
          });
          process.stdout.write(`Registered media node ${options.id}\n`);
        });
      },
    );
  node
    .command('list')
    .description('list media nodes: id, status, region, classes/capacity, sessions, participants, URL')
    .requiredOption('--db <file|url>', 'SQLite file path or postgres:// URL', process.env.CLASSBOX_FLEET_DB)
    .option('--json', 'one JSON object per line')
    .action(async (options: { db: string; json?: boolean }) => {
      await withDatabase('node list', options.db, async (db) => {
        for (const n of await services(db).nodes.list())
          process.stdout.write(
            options.json
              ? `${JSON.stringify(n)}\n`
              : `${n.id}\t${n.status}\t${n.region}\t${n.classes}/${n.capacity} classes\tsessions ${n.sessions ?? '-'}\tparticipants ${n.participants ?? '-'}\t${n.wsUrl}\n`,
          );
      });
    });
  node
    .command('remove')
    .description("remove a media node; its classes move to other nodes first (refused if one can't)")
    .requiredOption('--db <file|url>', 'SQLite file path or postgres:// URL', process.env.CLASSBOX_FLEET_DB)
    .requiredOption('--id <id>', 'the node')
    .action(async (options: { db: string; id: string }) => {
      await withDatabase('node remove', options.db, async (db) => {
        await audited(db, 'node remove', options.id, () => services(db).nodes.remove(options.id));
        process.stdout.write(`Removed media node ${options.id}\n`);
      });
    });

  const token = fleet.command('token').description('enrolment tokens');
  token
    .command('create')
    .description('mint single-use enrolment tokens and write one enrolment file per box for flashing')
    .requiredOption('--db <file|url>', 'SQLite file path or postgres:// URL', process.env.CLASSBOX_FLEET_DB)
    .requiredOption('--centre <id>', 'the centre the boxes belong to')
    .option('--count <n>', 'how many boxes', positive, 1)
    .option(
      '--expires <duration>',
      'how long the tokens stay valid, e.g. 7d or 2w',
      durationWithin(TOKEN_LIFETIME),
      7 * 86_400,
    )
    .option('--device-id <id>', 'name the box (repeat for several; default <centre>-01, -02, …)', collect)
    .option(
      '--fleet-url <url>',
      'URL the boxes reach the fleet server at ($CLASSBOX_FLEET_URL)',
      process.env.CLASSBOX_FLEET_URL,
    )
    .option('--out <dir>', 'where to write <deviceId>/classbox-enrol.json', 'enrolment')
    .option(
      '--reenrol',
      "mint for ids that are enrolled already (a re-flashed box): the box's key is replaced",
    )
    .option(
      '--allow-insecure-http',
      'development only: the seeds may name an http:// fleet URL on a non-loopback host',
    )
    .action(
      async (options: {
        db: string;
        centre: string;
        count: number;
        expires: number;
        deviceId?: string[];
        fleetUrl?: string;
        out: string;
        reenrol?: boolean;
        allowInsecureHttp?: boolean;
        history: boolean;
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
          reenrol: options.reenrol === true,
        });
        if (!input.success)
          return fail(
            'token create',
            input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
          );
        await withDatabase('token create', options.db, async (db) => {
          let minted: Awaited<ReturnType<EnrolmentService['mint']>> = [];
          await audited(db, 'token create', options.centre, async () => {
            minted = await services(db, options.fleetUrl, options.allowInsecureHttp === true).enrolment.mint(
              options.centre,
              input.data,
              options.fleetUrl,
            );
          });
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

  token
    .command('list')
    .description("list a centre's enrolment tokens: id, device, status (unused, used, expired, revoked)")
    .requiredOption('--db <file|url>', 'SQLite file path or postgres:// URL', process.env.CLASSBOX_FLEET_DB)
    .requiredOption('--centre <id>', 'the centre')
    .action(async (options: { db: string; centre: string }) => {
      await withDatabase('token list', options.db, async (db) => {
        for (const t of await services(db).enrolment.list(options.centre))
          process.stdout.write(`${t.id}\t${t.deviceId}\t${t.status}\texpires ${t.expiresAt}\n`);
      });
    });
  token
    .command('revoke')
    .description('revoke an unused enrolment token (its id from `fleet token list`)')
    .requiredOption('--db <file|url>', 'SQLite file path or postgres:// URL', process.env.CLASSBOX_FLEET_DB)
    .requiredOption('--centre <id>', 'the centre')
    .requiredOption('--id <token id>', 'the token id')
    .action(async (options: { db: string; centre: string; id: string }) => {
      await withDatabase('token revoke', options.db, async (db) => {
        await audited(db, 'token revoke', `${options.centre}/${options.id}`, () =>
          services(db).enrolment.revoke(options.centre, options.id),
        );
        process.stdout.write(`Revoked token ${options.id}\n`);
      });
    });
}
