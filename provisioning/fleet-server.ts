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
import { AdminAuthService } from './services/admin-auth.service.js';
import { FleetClock, FleetOptions, SystemFleetClock } from './services/fleet-options.js';

/** Snapshots are the largest bodies (a base64 JPEG); anything bigger is refused with 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

const UPLOAD_ROUTE = /^\/api\/v1\/admin\/releases\/[^/]+\/payload$/;

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
  /** Behind a TLS reverse proxy: take the client address from X-Forwarded-For (for the rate limit). */
  trustProxy?: boolean;
  /** Adopted as the first admin's credential when the database has no admin yet. */
  firstAdminToken?: string;
  clock?: FleetClock;
  /** Release payloads; default `releases/` beside a SQLite file (give shared storage with PostgreSQL replicas). */
  releasesDir?: string;
}

export interface RunningFleetServer {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly db: FleetDb;
  stop(): Promise<void>;
}

export function dashboardDir(): string {
  return join(packageRoot(), 'provisioning', 'dashboard');
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
    };
    const adapter = new FastifyAdapter({
      bodyLimit: BODY_LIMIT_BYTES,
      trustProxy: config.trustProxy ?? false,
    });
    const app = await NestFactory.create<NestFastifyApplication>(
      FleetServerModule.forDatabase(store, options, config.clock ?? new SystemFleetClock(), {
        dir: config.releasesDir ?? defaultReleasesDir(config.db),
      }),
      adapter,
      // rawBody: device signatures cover the exact bytes sent, not a re-serialisation.
      { logger: new NestJsonLogger(), abortOnError: false, rawBody: true },
    );
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
      // Only enrolment is limited: it is the one route open to anyone holding a guess.
      allowList: (request) => !(request.method === 'POST' && request.url.split('?')[0] === '/api/v1/enrol'),
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
    await app.listen(config.port, config.host);
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = hostUrl(config.host, port);
    // With --port 0 (tests) the real port is known only now.
    if (config.publicUrl === undefined) options.publicUrl = url;
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

function defaultReleasesDir(db: string): string {
  return isPostgresUrl(db) ? '/var/lib/classbox-fleet/releases' : join(dirname(db), 'releases');
}

function hostUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
