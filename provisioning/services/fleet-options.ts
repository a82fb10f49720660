/** How this fleet server runs; set by `classbox fleet serve` (and tests). */
export abstract class FleetOptions {
  /** The URL boxes use to reach this server, written into enrolment seeds. */
  abstract readonly publicUrl: string;
  /** A box is offline when it has not sent a heartbeat for this long. */
  abstract readonly offlineAfterSec: number;
  /** How far a device's clock may be from the server's. */
  abstract readonly clockSkewSec: number;
  /** Enrolment attempts per client address per minute. */
  abstract readonly enrolPerMinute: number;
}

/** The server's time, injected so token expiry and clock skew are tested without waiting. */
export abstract class FleetClock {
  abstract now(): Date;
}

export class SystemFleetClock extends FleetClock {
  now(): Date {
    return new Date();
  }
}
