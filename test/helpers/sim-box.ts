import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDeviceConfig } from '../../device/config/device-config.loader.js';
import { startDaemon, type RunningDaemon } from '../../device/daemon.js';
import { JanusPort } from '../../device/ports/janus.port.js';
import { FleetEnrolmentService } from '../../device/services/fleet-enrolment.service.js';
import { FleetSyncService } from '../../device/services/fleet-sync.service.js';
import { FakeJanus } from './fake-janus.js';
import { freePort } from './ports.js';

export interface SimBox {
  readonly daemon: RunningDaemon;
  readonly janus: FakeJanus;
  /** The heartbeat rounds (`tick()`, `isReachable()`). */
  readonly fleet: FleetSyncService;
  readonly enrolment: FleetEnrolmentService;
  readonly configFile: string;
  stop(): Promise<void>;
}

/** Write a fleet box's config file (no device section: the box learns who it is at enrolment). */
export async function writeFleetBoxConfig(dir: string, fleetUrl: string, seedFile: string): Promise<string> {
  const file = join(dir, 'device.json');
  const config = {
    fleet: { url: fleetUrl, enrolmentFile: seedFile, heartbeatSeconds: 3600 },
    stateDir: join(dir, 'state'),
    hardware: { mode: 'sim' },
    kiosk: { browser: 'none' },
    session: { endHoldMs: 500 },
    control: { port: await freePort() },
    log: { level: 'warn' },
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/**
 * A box in `sim` mode booted from its config file through the real loader and daemon, with a
 * recording Janus. Its heartbeat timer runs hourly; tests drive rounds with `fleet.tick()`.
 */
export async function startSimBox(configFile: string): Promise<SimBox> {
  const config = await loadDeviceConfig(configFile);
  const janus = new FakeJanus();
  const daemon = await startDaemon(config, [{ provide: JanusPort, useValue: janus }]);
  const fleet = daemon.app.get(FleetSyncService);
  const enrolment = daemon.app.get(FleetEnrolmentService);
  return { daemon, janus, fleet, enrolment, configFile, stop: () => daemon.stop() };
}

/** Wait until `check` holds; fails with `what` if it never does. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  tries = 200,
): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never happened: ${what}`);
}
