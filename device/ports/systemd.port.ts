/** The sd_notify protocol to the service manager; a no-op when not run by systemd. */
export abstract class SystemdPort {
  /** Send assignments such as `{ READY: '1', STATUS: 'Idle' }`. Never throws. */
  abstract notify(fields: Record<string, string>): Promise<void>;
  /** Half of WATCHDOG_USEC in ms when the unit has a watchdog, else undefined. */
  abstract watchdogIntervalMs(): number | undefined;
}
