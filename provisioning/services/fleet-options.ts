/** Release payloads a manifest may declare, unless `maxReleaseBytes` says otherwise. */
export const DEFAULT_MAX_RELEASE_BYTES = 1024 * 1024 * 1024;

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
  /** Seeds may name an http:// fleet URL on a non-loopback host (development networks only). */
  abstract readonly allowInsecureHttp: boolean;
  /** Failed admin sign-ins per client address in `adminFailureWindowSec` before it gets 429s. */
  abstract readonly adminFailureLimit: number;
  abstract readonly adminFailureWindowSec: number;
  /** The largest release payload a manifest may declare. */
  abstract readonly maxReleaseBytes: number;
  /** Release public keys (SPKI PEM): a manifest must be signed by one of them to be registered. */
  abstract readonly trustedReleaseKeys: readonly string[];
  /** Keep the boxes' vitals as history (per minute 7 d, per hour 180 d); off only to measure its cost. */
  abstract readonly history: boolean;
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
