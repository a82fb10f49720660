/** The machine the daemon runs on: vital signs for the fleet and the reboot IT can ask for. */
export abstract class HostPort {
  abstract uptimeSec(): Promise<number>;
  /** SoC temperature, when the machine reports one. */
  abstract temperatureC(): Promise<number | undefined>;
  abstract reboot(): Promise<void>;
}
