import { Injectable } from '@nestjs/common';
import type { DesiredConfig } from '../../common/fleet-protocol.js';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { Backoff } from '../domain/backoff.js';
import { ClockPort } from '../ports/clock.port.js';
import {
  FleetError,
  FleetPort,
  FleetStatePort,
  type EnrolmentState,
  type FleetSession,
} from '../ports/fleet.port.js';
import { ConfigService } from './config.service.js';
import { StatusService } from './status.service.js';

/** A desired config from the fleet with the ETag it came under. */
export interface SavedDesired {
  readonly config: DesiredConfig;
  readonly etag: string;
}

/** An enrolled box; `firstConfig` is the server's answer to an enrolment made just now. */
export interface Enrolled {
  readonly enrolment: EnrolmentState;
  readonly firstConfig?: SavedDesired;
}

/**
 * Who the box is to the fleet and how it signs: picks up the enrolment of an earlier start, or
 * enrols at first boot with the seed IT flashed (then deletes the seed), and keeps the signing clock
 * offset the server taught it.
 */
@Injectable()
export class FleetEnrolmentService {
  private readonly log = createLogger(FleetEnrolmentService.name);
  private readonly backoff = new Backoff({ initialMs: 2000, maxMs: 60_000 });
  private enrolment: EnrolmentState | undefined;
  private privateKeyPem: string | undefined;
  private clockOffsetMs = 0;

  constructor(
    private readonly config: ConfigService,
    private readonly clock: ClockPort,
    private readonly fleet: FleetPort,
    private readonly state: FleetStatePort,
    private readonly status: StatusService,
  ) {}

  isEnrolled(): boolean {
    return this.enrolment !== undefined;
  }

  /** Who the box is enrolled as; undefined before enrolment. */
  identity(): EnrolmentState | undefined {
    return this.enrolment;
  }

  /** What signed requests need; undefined before enrolment. */
  signingSession(): FleetSession | undefined {
    if (!this.enrolment || !this.privateKeyPem) return undefined;
    return {
      url: this.enrolment.fleetUrl,
      deviceId: this.enrolment.deviceId,
      privateKeyPem: this.privateKeyPem,
      clockOffsetMs: this.clockOffsetMs,
    };
  }

  /** The device key, for taking it out of anything that leaves the box. */
  privateKey(): string | undefined {
    return this.privateKeyPem;
  }

  /**
   * Sign with the server's idea of the time from now on. Returns whether the offset moved by more
   * than a second, so that a retry at once can't loop on a server whose clock jumps.
   */
  learnServerTime(serverTimeMs: number): boolean {
    // Wall-clock time on purpose: the HTTP adapter stamps requests with Date.now() + this offset.
    const offset = serverTimeMs - Date.now();
    const moved = Math.abs(offset - this.clockOffsetMs) > 1000;
    this.clockOffsetMs = offset;
    this.log.warn(`Adjusted signing clock offsetMs=${offset}: the box clock is off`);
    return moved;
  }

  /** How long to wait before the next enrolment attempt (grows while they fail). */
  retryDelayMs(): number {
    return this.backoff.next();
  }

  /** The enrolment of an earlier start, or a new one from the seed; undefined while neither works. */
  async ensureEnrolled(): Promise<Enrolled | undefined> {
    if (this.enrolment) return { enrolment: this.enrolment };
    if (await this.restore()) return { enrolment: this.enrolment! };
    return this.enrol();
  }

  /** Pick up an enrolment made before this start (the usual case after the first boot). */
  private async restore(): Promise<boolean> {
    const enrolment = await this.state.readEnrolment();
    if (!enrolment) return false;
    const key = await this.state.ensureKeyPair();
    this.privateKeyPem = key.privateKeyPem;
    this.enrolment = enrolment;
    this.log.info(`Restored enrolment device=${enrolment.deviceId} fleet=${enrolment.fleetUrl}`);
    return true;
  }

  /** First boot: seed → key pair → POST /enrol → save state → delete seed. */
  private async enrol(): Promise<Enrolled | undefined> {
    const seedFile = this.enrolmentFile();
    const seed = await this.state.readSeed(seedFile).catch((error: unknown) => {
      this.log.error(`Can't enrol: ${reason(error)}`);
      return undefined;
    });
    if (!seed) {
      this.log.warn(`Can't enrol: no enrolment file at ${seedFile}; waiting for one`);
      return undefined;
    }
    const key = await this.state.ensureKeyPair();
    try {
      const answer = await this.fleet.enrol(seed.fleetUrl, {
        token: seed.token,
        publicKey: key.publicKeyPem,
        version: this.status.status().version,
      });
      const enrolment: EnrolmentState = {
        deviceId: answer.deviceId,
        centreId: answer.centreId,
        displayName: answer.displayName,
        fleetUrl: seed.fleetUrl,
        enrolledAt: new Date(this.clock.now()).toISOString(),
      };
      await this.state.saveEnrolment(enrolment);
      this.privateKeyPem = key.privateKeyPem;
      this.enrolment = enrolment;
      // The token is spent; the seed goes so it is never sent again (and never leaks from the SD card).
      await this.state.deleteSeed(seedFile);
      this.backoff.reset();
      this.log.info(`Enrolled device=${answer.deviceId} centre=${answer.centreId}`);
      return { enrolment, firstConfig: { config: answer.config, etag: answer.etag } };
    } catch (error) {
      const refused = error instanceof FleetError && error.code === 'E-FLEET-REFUSED';
      this.log.error(
        `Can't enrol device=${seed.deviceId}: ${reason(error)}${refused ? ' (ask IT for a new enrolment file)' : ''}`,
      );
      return undefined;
    }
  }

  private enrolmentFile(): string {
    const fleet = this.config.current.fleet;
    if (!fleet) throw new FleetError('E-FLEET-STATE', 'the config has no fleet section');
    return fleet.enrolmentFile;
  }
}
