/** How one peripheral is doing, as shown on the idle screen and in /api/status. */
export interface DeviceHealth {
  readonly status: 'ok' | 'missing' | 'error';
  /** Stable code for IT when not ok, e.g. `E-CAMERA-MISSING`. */
  readonly code?: string;
  /** Plain detail (the device's name, what failed). */
  readonly detail?: string;
}

export const HEALTH_OK: DeviceHealth = { status: 'ok' };

/** Plugging and unplugging devices through the control API exists only in `sim` mode. */
export class SimulationUnsupportedError extends Error {
  readonly code = 'E-NOT-SIM';
  constructor(what: string) {
    super(`${what} can only be simulated when hardware.mode is "sim"`);
    this.name = 'SimulationUnsupportedError';
  }
}
