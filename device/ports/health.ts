import type { DeviceHealth } from '../../common/device-health.js';

export type { DeviceHealth } from '../../common/device-health.js';

export const HEALTH_OK: DeviceHealth = { status: 'ok' };

/** Plugging and unplugging devices through the control API exists only in `sim` mode. */
export class SimulationUnsupportedError extends Error {
  readonly code = 'E-NOT-SIM';
  constructor(what: string) {
    super(`${what} can only be simulated when hardware.mode is "sim"`);
    this.name = 'SimulationUnsupportedError';
  }
}
