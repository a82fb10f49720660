import 'reflect-metadata';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { dirname, join } from 'node:path';
import { createLogger, NestJsonLogger } from '../common/logger.js';
import { packageRoot } from '../common/package-root.js';
import { VERSION } from '../common/version.js';
import { describeLocation, isPostgresUrl, openFleetStore, type FleetDb } from './db/database.js';
import { FleetServerModule } from './fleet.module.js';
import { isInsecureFleetUrl } from '../common/fleet-protocol.js';
import { adminOf } from './guards/admin.guard.js';
import { AdminAuthService } from './services/admin-auth.service.js';
import { AuditService } from './services/audit.service.js';
import {
  DEFAULT_MAX_RELEASE_BYTES,
  FleetClock,
  FleetOptions,
  SystemFleetClock,
} from './services/fleet-options.js';

/** Snapshots are the largest bodies (a base64 JPEG); anything bigger is refused with 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

const UPLOAD_ROUTE = /^\/api\/v1\/admin\/releases\/[^/]+\/payload$/;
const ENROL_ROUTE = '/api/v1/enrol';

export interface FleetServerConfig {
  /** A SQLite file path or a postgres:// URL. */
  db: string;
  port: number;
  host: string;
  /** The URL boxes reach this server at; default http://host:port. */
  publicUrl?: string;
  offlineAfterSec?: number;
  clockSkewSec?: number;
  enrolPerMinute?: number;
  /**
   * Behind a TLS reverse proxy: its addresses/CIDRs, or the number of proxy hops (see
   * `parseTrustProxy`); client addresses (rate limits) then come from X-Forwarded-For as far
   * as those proxies vouch for it.
   */
  trustProxy?: readonly string[] | number;
  /** Seeds may name an http:// URL on a non-loopback host (development networks only). */
  allowInsecureHttp?: boolean;
  /** Failed admin sign-ins per client address per window before 429 (default 10 per 300 s). */
  adminFailureLimit?: number;
  adminFailureWindowSec?: number;
  /** The largest release payload a manifest may declare (default 1 GiB). */
  maxReleaseBytes?: number;
  /** Release public keys (SPKI PEM) a manifest must be signed with to be registered. */
  trustedReleaseKeys?: readonly string[];
  /** Keep the boxes' vitals as history (default true); off only to measure what it costs. */
  history?: boolean;
  /** Adopted as the first admin's credential when the database has no admin yet. */
  firstAdminToken?: string;
  clock?: FleetClock;
  /** Release payloads; default `releases/` beside a SQLite file (give shared storage with PostgreSQL replicas). */
  releasesDir?: string;
  /**
   * The media node's recordings (issue 21): its `rec_dir`s, `<dir>/room-<room>/`; default `recordings/`
   * beside a SQLite file. `recordingsKeepHours` (default 72): how long recordings and cuts are kept.
   */
  recordingsDir?: string;
  recordingsKeepHours?: number;
}

export interface RunningFleetServer {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly db: FleetDb;
  stop(): Promise<void>;
}

/** The dashboard's built files (vite build of provisioning/dashboard, `npm run build`). */
export function dashboardDir(): string {
  return join(packageRoot(), 'dist', 'dashboard');
}

export async function startFleetServer(config: FleetServerConfig): Promise<RunningFleetServer> {
  const log = createLogger('FleetServer');
  const store = await openFleetStore(config.db);
  const { db } = store;
  try {
    const options: { -readonly [K in keyof FleetOptions]: FleetOptions[K] } = {
      publicUrl: config.publicUrl ?? hostUrl(config.host, config.port),
      offlineAfterSec: config.offlineAfterSec ?? 90,
      clockSkewSec: config.clockSkewSec ?? 120,
      enrolPerMinute: config.enrolPerMinute ?? 20,
      allowInsecureHttp: config.allowInsecureHttp ?? false,
      adminFailureLimit: config.adminFailureLimit ?? 10,
      adminFailureWindowSec: config.adminFailureWindowSec ?? 300,
      maxReleaseBytes: config.maxReleaseBytes ?? DEFAULT_MAX_RELEASE_BYTES,
      trustedReleaseKeys: config.trustedReleaseKeys ?? [],
      history: config.history ?? true,
    };
    const adapter = new FastifyAdapter({
      bodyLimit: BODY_LIMIT_BYTES,
      trustProxy: trustProxyOption(config.trustProxy),
    });
    const app = await NestFactory.create<NestFastifyApplication>(
      FleetServerModule.forDatabase(
        store,
        options,
        config.clock ?? new SystemFleetClock(),
        {
          dir: config.releasesDir ?? defaultReleasesDir(config.db),
        },
        {
          dir: config.recordingsDir ?? join(dirname(defaultReleasesDir(config.db)), 'recordings'),
          keepHours: config.recordingsKeepHours ?? 72,
        },
      ),
      adapter,
      // rawBody: device signatures cover the exact bytes sent, not a re-serialisation.
      { logger: new NestJsonLogger(), abortOnError: false, rawBody: true },
    );
    const fastify = app.getHttpAdapter().getInstance();
    // Every answer, the dashboard's files and the refusals included: never let a browser guess a type.
    fastify.addHook('onRequest', (_request, reply, done) => {
      void reply.header('x-content-type-options', 'nosniff');
      done();
    });
    const audit = app.get(AuditService);
    // Every admin action, with who did it, recorded before the answer leaves (so it can't be missed).
    fastify.addHook('onSend', async (request, reply, payload) => {
      const admin = adminOf(request);
      if (admin && !['GET', 'HEAD', 'OPTIONS'].includes(request.method)) {
        await audit.record({
          actor: admin.name,
          action: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
          target: request.url.split('?')[0] ?? '',
          outcome: String(reply.statusCode),
          client: request.ip,
        });
      }
      return payload;
    });
    // Release uploads arrive as a stream (up to hundreds of MB), on their one route only; every
    // other route keeps the 1 MB JSON limit.
    app
      .getHttpAdapter()
      .getInstance()
      .addContentTypeParser('application/octet-stream', (request, payload, done) => {
        if (UPLOAD_ROUTE.test(request.url.split('?')[0] ?? '')) return done(null, payload);
        done(
          Object.assign(new Error('only release payloads are sent as application/octet-stream'), {
            statusCode: 415,
          }),
        );
      });
    await app.register(fastifyRateLimit, {
      global: true,
      max: options.enrolPerMinute,
      timeWindow: 60_000,
      // Only enrolment is limited: it is the one route open to anyone holding a guess. Keyed on
      // the route the router matched, not the raw URL: "/api/v1/%65nrol" reaches the same handler.
      allowList: (request) => !(request.method === 'POST' && request.routeOptions.url === ENROL_ROUTE),
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        error: {
          code: 'E-RATE-LIMITED',
          message: `too many enrolment attempts; try again in ${context.after}`,
        },
      }),
    });
    await app.register(fastifyStatic, {
      root: dashboardDir(),
      prefix: '/',
      index: ['index.html'],
      // The dashboard holds an admin credential: it runs only its own scripts and can't be framed.
      setHeaders: (reply) =>
        void reply.header(
          'content-security-policy',
          "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        ),
    });
    await app.get(AdminAuthService).ensureFirstAdmin(config.firstAdminToken);
    if (options.trustedReleaseKeys.length === 0)
      log.warn('Trusting no release key: releases can be registered only with --release-keys DIR');
    await app.listen(config.port, config.host);
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = hostUrl(config.host, port);
    // With --port 0 (tests) the real port is known only now.
    if (config.publicUrl === undefined) options.publicUrl = url;
    if (isInsecureFleetUrl(options.publicUrl))
      log.warn(
        `Serving boxes over plain http publicUrl=${options.publicUrl}: ${options.allowInsecureHttp ? 'allowed by --allow-insecure-http (development only)' : 'enrolment seeds will be refused; use https:// or --allow-insecure-http'}`,
      );
    log.info(`Started fleet server version=${VERSION} url=${url} db=${describeLocation(config.db)}`);
    let stopped: Promise<void> | undefined;
    return {
      app,
      url,
      db,
      stop: () =>
        (stopped ??= (async () => {
          await app.close();
          await db.destroy();
        })()),
    };
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw error;
  }
}

function trustProxyOption(
  value: FleetServerConfig['trustProxy'],
): string | ((address: string, hop: number) => boolean) | false {
  if (value === undefined) return false;
  // A hop count as Fastify's own numeric form does it: trust the nearest `value` hops.
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return value.join(',');
}

function defaultReleasesDir(db: string): string {
  return isPostgresUrl(db) ? '/var/lib/classbox-fleet/releases' : join(dirname(db), 'releases');
}

function hostUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
