import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { UpdateOffer, UpdateReport } from '../../common/release-manifest.js';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { VERSION } from '../../common/version.js';
import { updateBlockedBy, type TrialRecord } from '../domain/update-plan.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import { RestartPort, UpdateError, UpdateStatePort } from '../ports/update.port.js';
import { ClassSessionService } from './class-session.service.js';
import { ConfigService } from './config.service.js';
import { FleetEnrolmentService } from './fleet-enrolment.service.js';
import { FleetSyncService } from './fleet-sync.service.js';
import { LifecycleService } from './lifecycle.service.js';
import { NextClassService } from './next-class.service.js';
import { ReleaseInstaller } from './release-installer.js';

const HEALTH_CHECK_MS = 2000;
/** Re-check the timetable window now and then: a class ending frees the box without an event. */
const WINDOW_CHECK_MS = 60_000;

/**
 * The box's updater. At start it judges a version on trial (rolling back one that keeps
 * failing); while running it takes the release the fleet names, between classes only, and
 * reports progress and the result in the heartbeats.
 */
@Injectable()
export class UpdaterService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger(UpdaterService.name);
  private report: UpdateReport | undefined;
  private offer: UpdateOffer | undefined;
  private trial: TrialRecord | undefined;
  private running: Promise<void> | undefined;
  private healthTimer: TimerHandle | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private windowTimer: TimerHandle | undefined;
  private stopping = false;
  /**
   * The version `current` names (on a box, this code's own version); the compiled-in
   * version where there is no release tree (a development checkout).
   */
  private runningVersion = VERSION;
  /** Versions refused or rolled back: not tried again until the fleet names another one. */
  private readonly refused = new Set<string>();

  constructor(
    private readonly installer: ReleaseInstaller,
    private readonly state: UpdateStatePort,
    private readonly restart: RestartPort,
    private readonly fleet: FleetSyncService,
    private readonly enrolment: FleetEnrolmentService,
    private readonly nextClass: NextClassService,
    private readonly session: ClassSessionService,
    private readonly lifecycle: LifecycleService,
    private readonly config: ConfigService,
    private readonly clock: ClockPort,
  ) {}

  /** Before the box starts its class machinery: a version that keeps failing is left at once. */
  async onModuleInit(): Promise<void> {
    try {
      const outcome = await this.state.readOutcome();
      if (outcome) {
        this.report = {
          state: outcome.result,
          version: outcome.version,
          code: outcome.code,
          detail: outcome.detail,
        };
        if (outcome.result !== 'installed') this.refused.add(outcome.version);
      }
      const recovery = await this.installer.recover(true);
      this.runningVersion =
        (recovery.kind === 'steady'
          ? recovery.current
          : recovery.kind === 'trial'
            ? recovery.trial.version
            : recovery.to) ?? VERSION;
      if (recovery.kind === 'rolled-back') {
        this.report = {
          state: 'rolled-back',
          version: recovery.version,
          code: recovery.code,
          detail: recovery.detail,
        };
        await this.restart.restart(`rolled back to ${recovery.to}`);
        return;
      }
      if (recovery.kind === 'trial') this.watchTrial(recovery.trial);
    } catch (error) {
      this.log.error(`Can't check the update state: ${reason(error)}`);
    }
  }

  onApplicationBootstrap(): void {
    this.fleet.reportUpdatesWith(() => this.report);
    this.fleet.updateOffered.on(UpdaterService.name, (offer) => {
      this.offer = offer;
      this.kick();
    });
    this.session.changed.on(UpdaterService.name, () => this.kick());
    this.windowTimer = this.clock.setInterval(() => this.kick(), WINDOW_CHECK_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.clock.clearInterval(this.healthTimer);
    this.clock.clearInterval(this.windowTimer);
    this.clock.clearTimeout(this.deadlineTimer);
    await this.running;
  }

  /** The update as the heartbeat reports it. */
  status(): UpdateReport | undefined {
    return this.report;
  }

  /** Waits for the update under way, if any (tests). */
  async settled(): Promise<void> {
    await this.running;
  }

  private watchTrial(trial: TrialRecord): void {
    this.trial = trial;
    this.report = { state: 'trial', version: trial.version };
    // Healthy means: READY (API, Janus attempt), a heartbeat from the page, and one the fleet answered.
    this.healthTimer = this.clock.setInterval(() => {
      if (this.trial && this.lifecycle.isProvenHealthy() && this.fleet.isReachable() === true) {
        void this.confirm(this.trial);
      }
    }, HEALTH_CHECK_MS);
    this.deadlineTimer = this.clock.setTimeout(
      () => void this.giveUp(trial),
      Math.max(0, trial.deadline - this.clock.now()),
    );
  }

  private async confirm(trial: TrialRecord): Promise<void> {
    this.stopTrialTimers();
    try {
      await this.installer.confirm(trial);
      this.report = { state: 'installed', version: trial.version };
    } catch (error) {
      this.log.error(`Can't confirm update version=${trial.version}: ${reason(error)}`);
    }
  }

  private async giveUp(trial: TrialRecord): Promise<void> {
    if (this.trial !== trial) return;
    this.stopTrialTimers();
    const detail = `version ${trial.version} was not healthy within ${this.config.current.update.healthTimeoutSec} s`;
    try {
      const to = await this.installer.rollback(trial, 'E-UPDATE-UNHEALTHY', detail);
      this.report = { state: 'rolled-back', version: trial.version, code: 'E-UPDATE-UNHEALTHY', detail };
      if (to !== trial.version) await this.restart.restart(`rolled back to ${to}`);
    } catch (error) {
      this.log.error(`Can't roll back version=${trial.version}: ${reason(error)}`);
    }
  }

  private stopTrialTimers(): void {
    this.trial = undefined;
    this.clock.clearInterval(this.healthTimer);
    this.clock.clearTimeout(this.deadlineTimer);
    this.healthTimer = undefined;
  }

  private blockedBy(): string | undefined {
    const window = this.nextClass.window();
    return updateBlockedBy({
      sessionState: this.session.state.state,
      nextClass: window,
      nowMs: this.clock.now(),
      guardMs: this.config.current.update.classGuardMinutes * 60_000,
    });
  }

  private kick(): void {
    if (this.running || this.stopping || this.trial) return;
    const offer = this.offer;
    if (!offer || offer.version === this.runningVersion || this.refused.has(offer.version)) return;
    const blocked = this.blockedBy();
    if (blocked) {
      if (this.report?.state !== 'waiting' || this.report.version !== offer.version)
        this.log.info(`Deferred update version=${offer.version}: ${blocked}`);
      this.report = { state: 'waiting', version: offer.version, detail: blocked };
      return;
    }
    this.running = this.install(offer).finally(() => {
      this.running = undefined;
    });
  }

  private async install(offer: UpdateOffer): Promise<void> {
    this.report = { state: 'downloading', version: offer.version, progress: 0 };
    try {
      const record = await this.installer.begin({
        version: offer.version,
        manifest: offer.manifest,
        signature: offer.signature,
        source: { kind: 'fleet', path: offer.payloadPath },
      });
      const result = await this.installer.continue(
        record,
        this.enrolment.signingSession(),
        (progress) => {
          this.report = { state: 'downloading', version: offer.version, progress };
        },
        () => {
          // The last look before the switch: a class may have started during the download.
          const blocked = this.blockedBy();
          if (blocked) this.report = { state: 'waiting', version: offer.version, detail: blocked };
          else this.report = { state: 'installing', version: offer.version };
          return blocked === undefined;
        },
      );
      if (result === 'held') return;
      this.report = { state: 'restarting', version: offer.version };
      await this.restart.restart(`update to ${offer.version}`);
    } catch (error) {
      const code = error instanceof UpdateError ? error.code : 'E-UPDATE-STATE';
      const detail = reason(error).slice(0, 500);
      this.log.error(`Can't update to version=${offer.version} code=${code}: ${detail}`);
      this.report = { state: 'failed', version: offer.version, code, detail };
      // A refusal is final for this version; a broken download is tried again at the next heartbeat.
      if (code !== 'E-UPDATE-DOWNLOAD') {
        this.refused.add(offer.version);
        await this.state
          .writeOutcome({
            version: offer.version,
            result: 'failed',
            code,
            detail,
            at: new Date(this.clock.now()).toISOString(),
          })
          .catch((e: unknown) => this.log.warn(`Can't save the update outcome: ${reason(e)}`));
      }
    }
  }
}
