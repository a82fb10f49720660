import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Provider } from '@nestjs/common';
import { reason } from '../common/errors.js';
import { configureLogging, createLogger, NestJsonLogger } from '../common/logger.js';
import { VERSION } from '../common/version.js';
import { ChromiumPrelaunch } from './adapters/kiosk-browser.puppeteer.js';
import { kioskPageDir, type EarlyKioskPage } from './adapters/kiosk-page.early.js';
import { DeviceModule } from './app.module.js';
import type { DeviceConfig } from './config/device-config.schema.js';
import { LifecycleService } from './services/lifecycle.service.js';

const SHUTDOWN_LIMIT_MS = 5000;

export interface RunningDaemon {
  readonly app: NestFastifyApplication;
  readonly url: string;
  stop(): Promise<void>;
}

export { kioskPageDir };

/**
 * Boot the daemon: the Nest app on loopback, the page, the ports. Used by the CLI and by tests.
 * `early` holds the control port until the daemon's server takes it over.
 */
export async function startDaemon(
  config: DeviceConfig,
  overrides: Provider[] = [],
  early?: EarlyKioskPage,
): Promise<RunningDaemon> {
  configureLogging(config.log.level);
  const log = createLogger('Daemon');
  const adapter = new FastifyAdapter({ bodyLimit: 64 * 1024 });
  const app = await NestFactory.create<NestFastifyApplication>(
    DeviceModule.forConfig(config, overrides),
    adapter,
    {
      logger: new NestJsonLogger(),
      abortOnError: false,
    },
  );
  const pageDir = kioskPageDir();
  if (existsSync(pageDir)) {
    await app.register(fastifyStatic, { root: pageDir, prefix: '/', index: ['index.html'] });
  } else {
    log.warn(`Can't serve the kiosk page: ${pageDir} is missing (run npm run build)`);
  }
  // Loopback only: the control API and the page are never reachable from the network.
  try {
    // Nest's init runs first (listen calls it), then the early server lets go of the port just before
    // the daemon's own server takes it: a connection in between is refused, which the page retries.
    await app.init();
    early?.release();
    await app.listen(config.control.port, '127.0.0.1');
  } catch (error) {
    // Nest's init already ran (the kiosk browser is starting): release it all, or it keeps the process alive.
    early?.close();
    await app.close().catch(() => undefined);
    throw error;
  }
  early?.handTo(app.getHttpServer() as Server);
  const url = `http://127.0.0.1:${config.control.port}`;
  log.info(
    `Started daemon version=${VERSION} device=${config.device.id} url=${url} mode=${config.hardware.mode}`,
  );
  void app
    .get(LifecycleService)
    .announceReady()
    .catch((error: unknown) => log.error(`Can't announce ready: ${reason(error)}`));
  let stopped: Promise<void> | undefined;
  return {
    app,
    url,
    stop: () => (stopped ??= app.close()),
  };
}

/** Run in the foreground until SIGTERM/SIGINT; returns the exit code. */
export async function runDaemon(
  config: DeviceConfig,
  context: { configFile: string; prelaunch?: ChromiumPrelaunch; early?: EarlyKioskPage },
): Promise<number> {
  const log = createLogger('Daemon');
  let daemon: RunningDaemon;
  try {
    daemon = await startDaemon(
      config,
      context.prelaunch ? [{ provide: ChromiumPrelaunch, useValue: context.prelaunch }] : [],
      context.early,
    );
  } catch (error) {
    context.early?.close();
    await context.prelaunch?.discard();
    exitIfStillHeld(log, 1);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      log.error(`Can't start daemon: control.port ${config.control.port} is already in use`);
      process.stderr.write(`classbox device: control.port ${config.control.port} is already in use\n`);
      return 1;
    }
    log.error(`Can't start daemon: ${reason(error)}`);
    return 1;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info(`Stopping daemon signal=${signal}`);
  const limit = setTimeout(() => {
    log.error(`Can't stop cleanly within ${SHUTDOWN_LIMIT_MS} ms; exiting`);
    process.exit(1);
  }, SHUTDOWN_LIMIT_MS);
  limit.unref();
  try {
    await daemon.stop();
  } catch (error) {
    log.error(`Can't stop cleanly: ${reason(error)}`);
    return 1;
  } finally {
    clearTimeout(limit);
  }
  log.info('Stopped daemon');
  exitIfStillHeld(log, 0);
  return 0;
}

/**
 * Everything is released; a library handle left open (janode's socket, a timer of a half-started
 * service) must not keep a stopped daemon alive — systemd would wait for it, and a daemon that
 * could not start would never exit (a port already in use hung the process before).
 */
function exitIfStillHeld(log: ReturnType<typeof createLogger>, code: number): void {
  setTimeout(() => {
    // What is left, by kind (Timeout, TCPSocketWrap, FSReqCallback…), so the holder can be found.
    const held = process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap');
    const own = held.indexOf('Timeout'); // this guard's own timer
    if (own >= 0) held.splice(own, 1);
    log.warn(
      `Exiting: something still held the event loop 1 s after shutdown held=${held.join(',') || 'unknown'}`,
    );
    process.exit(code);
  }, 1000).unref();
}
