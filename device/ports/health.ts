import type { DeviceHealth } from '../../common/device-health.js';
import { ClassboxError } from '../../common/errors.js';

export type { DeviceHealth } from '../../common/device-health.js';

export const HEALTH_OK: DeviceHealth = { status: 'ok' };

/** Plugging devices in and out and pressing buttons through the control API exist only in `sim` mode. */
export class SimulationUnsupportedError extends ClassboxError<'E-NOT-SIM'> {
  constructor(what: string) {
    super('E-NOT-SIM', `${what} can only be simulated when hardware.mode is "sim"`);
  }
}
