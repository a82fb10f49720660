import type {
  ActionResult,
  DesiredConfig,
  EnrolmentSeed,
  EnrolRequest,
  EnrolResponse,
  Heartbeat,
  HeartbeatResponse,
} from '../../common/fleet-protocol.js';
import { ClassboxError } from '../../common/errors.js';

export type FleetErrorCode =
  /** No answer: network down, server stopped, DNS, timeout. */
  | 'E-FLEET-UNREACHABLE'
  /** The server answered with a refusal (4xx/5xx); `serverCode` says which. */
  | 'E-FLEET-REFUSED'
  /** The server answered something that is not the protocol. */
  | 'E-FLEET-BAD-RESPONSE'
  /** A file of the box's fleet state is missing, unreadable or invalid. */
  | 'E-FLEET-STATE';

export class FleetError extends ClassboxError<FleetErrorCode> {
  constructor(
    code: FleetErrorCode,
    message: string,
    readonly details: { status?: number; serverCode?: string; serverTimeMs?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** What the box needs to sign its requests. */
export interface FleetSession {
  readonly url: string;
  readonly deviceId: string;
  readonly privateKeyPem: string;
  /** Added to the box's clock for the signature timestamp (learnt from the server's clock). */
  readonly clockOffsetMs: number;
}

/** The fleet server, as the box uses it. Every call after enrolment is signed with the device key. */
export abstract class FleetPort {
  abstract enrol(fleetUrl: string, request: EnrolRequest): Promise<EnrolResponse>;
  abstract heartbeat(session: FleetSession, beat: Heartbeat): Promise<HeartbeatResponse>;
  /** `unchanged` when the server's config still has `etag` (a 304). */
  abstract fetchConfig(
    session: FleetSession,
    etag: string | undefined,
  ): Promise<{ config: DesiredConfig; etag: string } | 'unchanged'>;
  abstract reportAction(session: FleetSession, actionId: string, result: ActionResult): Promise<void>;
}

/** Saved once enrolment succeeded: who the box is and where its fleet server is. */
export interface EnrolmentState {
  readonly deviceId: string;
  readonly centreId: string;
  readonly displayName: string;
  readonly fleetUrl: string;
  readonly enrolledAt: string;
}

export interface DeviceKeyPair {
  readonly publicKeyPem: string;
  readonly privateKeyPem: string;
}

/** The box's fleet state on disk: seed, key, enrolment, last good config. Writes are atomic. */
export abstract class FleetStatePort {
  /** The enrolment seed at `file`, undefined when there is none; FleetError when it is invalid. */
  abstract readSeed(file: string): Promise<EnrolmentSeed | undefined>;
  abstract deleteSeed(file: string): Promise<void>;
  abstract readEnrolment(): Promise<EnrolmentState | undefined>;
  abstract saveEnrolment(state: EnrolmentState): Promise<void>;
  /** The device key, made (Ed25519, file mode 0600) the first time. */
  abstract ensureKeyPair(): Promise<DeviceKeyPair>;
  abstract readDesired(): Promise<{ config: DesiredConfig; etag: string } | undefined>;
  abstract saveDesired(desired: { config: DesiredConfig; etag: string }): Promise<void>;
}
