import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CATCHUP_FIELD, catchupReportSchema, type CatchupReport } from '../../common/catchup-protocol.js';
import type { Heartbeat } from '../../common/fleet-protocol.js';
import type { UpdateOffer, UpdateReport } from '../../common/release-manifest.js';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { Signal } from '../../common/signal.js';
import { describeIssues } from '../../common/zod-issues.js';
import { applyDesired } from '../config/config-layers.js';
import { deviceConfigSchema, type DeviceConfig } from '../config/device-config.schema.js';
import { isBetweenClasses } from '../domain/class-session.machine.js';
import { writeFailureHealth } from '../ports/storage.port.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import { FleetError, FleetPort, FleetStatePort, type FleetSession } from '../ports/fleet.port.js';
import { HostPort } from '../ports/host.port.js';
import { ClassSessionService } from './class-session.service.js';
import { ConfigService } from './config.service.js';
import { FleetEnrolmentService, type SavedDesired } from './fleet-enrolment.service.js';
import { HealthService } from './health.service.js';
import { NextClassService } from './next-class.service.js';
import { RemoteActionsService } from './remote-actions.service.js';
import { StatusService } from './status.service.js';

/**
 * The box's rounds with the fleet: enrols first (FleetEnrolmentService), then sends heartbeats,
 * polls the desired config (ETag) and applies it between classes, and hands IT's remote actions on.
 * The server being away never stops the box: it keeps its last good config and catches up later.
 */
@Injectable()
export class FleetSyncService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger(FleetSyncService.name);
  private saved: SavedDesired | undefined;
  /** A validated config waiting for the class to end. */
  private pending: DeviceConfig | undefined;
  private timer: TimerHandle | undefined;
  private ticking: Promise<void> | undefined;
  private reachable: boolean | undefined;
  private lastRttMs: number | undefined;
  private stopping = false;
  private rounds: Promise<void> = Promise.resolve();
  private retrySoon = false;
  /** The release the fleet wants this box to run (undefined: none), after every heartbeat. */
  readonly updateOffered = new Signal<UpdateOffer | undefined>('fleet.updateOffered');
  private updateReport: () => UpdateReport | undefined = () => undefined;
  private catchupReport: () => CatchupReport | undefined = () => undefined;
  /** The optional heartbeat fields the server said it takes (issue 21): none until it says so. */
  private accepts: readonly string[] = [];

  constructor(
    private readonly config: ConfigService,
    private readonly session: ClassSessionService,
    private readonly status: StatusService,
    private readonly clock: ClockPort,
    private readonly fleet: FleetPort,
    private readonly state: FleetStatePort,
    private readonly host: HostPort,
    private readonly health: HealthService,
    private readonly enrolment: FleetEnrolmentService,
    private readonly nextClass: NextClassService,
    private readonly actions: RemoteActionsService,
  ) {}

  onApplicationBootstrap(): void {
    this.session.changed.on(FleetSyncService.name, ({ state }) => {
      if (isBetweenClasses(state)) this.applyWhenIdle();
    });
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.clock.clearTimeout(this.timer);
    await this.ticking;
  }

  /** The updater's progress goes into every heartbeat. */
  reportUpdatesWith(source: () => UpdateReport | undefined): void {
    this.updateReport = source;
  }

  /** The missed stretches of recent classes go into the heartbeats of a server that takes them (issue 21). */
  reportCatchupWith(source: () => CatchupReport | undefined): void {
    this.catchupReport = source;
  }

  /** Whether the last exchange with the server worked (undefined before the first). */
  isReachable(): boolean | undefined {
    return this.reachable;
  }

  /**
   * One round: enrol if needed, heartbeat, config, actions. The timer calls it (tests may too);
   * rounds never overlap, so a token is never spent twice by one box.
   */
  tick(): Promise<void> {
    const round = this.rounds.then(() => this.round());
    this.rounds = round.catch(() => undefined);
    return round;
  }

  private async round(): Promise<void> {
    if (!this.enrolment.isEnrolled()) {
      const enrolled = await this.enrolment.ensureEnrolled();
      if (!enrolled) return;
      if (enrolled.firstConfig) {
        this.reachable = true;
        await this.receive(enrolled.firstConfig);
      } else {
        await this.restoreSaved();
      }
    }
    await this.exchange();
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.ticking = this.tick()
        .catch((error: unknown) => this.log.error(`Can't talk to fleet server: ${reason(error)}`))
        .finally(() => {
          this.ticking = undefined;
          const interval = this.enrolment.isEnrolled()
            ? this.config.current.fleet!.heartbeatSeconds * 1000
            : this.enrolment.retryDelayMs();
          this.schedule(this.retrySoon ? 0 : interval);
          this.retrySoon = false;
        });
    }, delayMs);
  }

  /** The config the fleet sent before this start: the last good one until the server says more. */
  private async restoreSaved(): Promise<void> {
    this.saved = await this.state.readDesired().catch((error: unknown) => {
      this.log.warn(`Can't use the saved fleet config: ${reason(error)}`);
      return undefined;
    });
    if (this.saved) this.nextClass.restore(this.saved.config);
  }

  private signingSession(): FleetSession {
    const session = this.enrolment.signingSession();
    if (!session) throw new FleetError('E-FLEET-STATE', 'the box is not enrolled');
    return session;
  }

  private async exchange(): Promise<void> {
    try {
      const started = this.clock.now();
      const answer = await this.fleet.heartbeat(this.signingSession(), await this.heartbeat());
      this.lastRttMs = Math.max(0, Math.round(this.clock.now() - started));
      this.markReachable(true);
      this.accepts = answer.accepts ?? [];
      if (answer.configEtag !== this.saved?.etag) await this.pollConfig();
      for (const action of answer.actions) await this.actions.run(action);
      this.updateOffered.emit(answer.update);
    } catch (error) {
      this.onExchangeError(error);
    }
  }

  private onExchangeError(error: unknown): void {
    if (
      error instanceof FleetError &&
      error.details.serverCode === 'E-CLOCK-SKEW' &&
      error.details.serverTimeMs !== undefined
    ) {
      // A Pi has no real-time clock: until NTP syncs, sign with the server's idea of the time.
      this.retrySoon = this.enrolment.learnServerTime(error.details.serverTimeMs);
      return;
    }
    if (error instanceof FleetError && error.code === 'E-FLEET-UNREACHABLE') {
      this.markReachable(false, reason(error));
      return;
    }
    this.log.error(`Can't exchange with fleet server: ${reason(error)}`);
  }

  private markReachable(reachable: boolean, why?: string): void {
    if (this.reachable === reachable) return;
    this.reachable = reachable;
    if (reachable) this.log.info('Reached fleet server');
    else this.log.warn(`Lost fleet server, keeping the last good config: ${why ?? ''}`.trim());
  }

  private async heartbeat(): Promise<Heartbeat> {
    const status = this.status.status();
    const [uptimeSec, temperatureC] = await Promise.all([
      this.host.uptimeSec().catch(() => undefined),
      this.host.temperatureC().catch(() => undefined),
    ]);
    return {
      state: status.state,
      health: status.health,
      version: status.version,
      uptimeSec,
      temperatureC,
      board: status.board ?? undefined,
      network: { rttMs: this.lastRttMs },
      errorCode: status.errorCode ?? undefined,
      update: this.updateReport(),
      media: status.media,
      // Loss is not measured on the box yet: absent rather than a made-up zero.
      vitals: {
        state: status.state,
        cpuTemperatureC: temperatureC,
        uplinkKbps: status.network.uplinkKbps ?? undefined,
        rttMs: this.lastRttMs,
        audioOnly: status.network.audioOnly,
      },
      // Only to a server that said it takes it: an older one's strict schema refuses the whole heartbeat.
      catchup: this.accepts.includes(CATCHUP_FIELD) ? this.validCatchup() : undefined,
    };
  }

  /** The catch-up report, if the schema takes it: a bad one must not cost the whole heartbeat. */
  private validCatchup(): CatchupReport | undefined {
    const report = this.catchupReport();
    if (report === undefined) return undefined;
    const parsed = catchupReportSchema.safeParse(report);
    if (parsed.success) return parsed.data;
    this.log.error(`Can't report missed stretches: ${describeIssues(parsed.error).join('; ')}`);
    return undefined;
  }

  private async pollConfig(): Promise<void> {
    const answer = await this.fleet.fetchConfig(this.signingSession(), this.saved?.etag);
    if (answer === 'unchanged') return;
    await this.receive(answer);
  }

  /** Validate the fleet's config against this box's config; only a good one is saved and applied. */
  private async receive(desired: SavedDesired): Promise<void> {
    const current = this.config.current as unknown as Record<string, unknown>;
    // A box that started without a seed runs under a placeholder identity until it enrols: the
    // enrolled one goes into the config with the fleet's first answer (a no-op after that).
    const identity = this.enrolment.identity();
    const enrolled = identity && {
      ...current,
      device: { ...this.config.current.device, id: identity.deviceId, displayName: identity.displayName },
    };
    const candidate = deviceConfigSchema.safeParse(applyDesired(enrolled ?? current, desired.config));
    if (!candidate.success) {
      this.log.error(
        `Can't use the fleet's config etag=${desired.etag}: ${describeIssues(candidate.error).join('; ')}`,
      );
      return;
    }
    try {
      await this.state.saveDesired(desired);
      this.health.reportWrite(undefined);
    } catch (error) {
      // A full or read-only disk: the saved config stays the last good one, the box keeps running on
      // what it has, and the screen, the status and the next heartbeat say why.
      this.health.reportWrite(writeFailureHealth(error, 'the config from the fleet'));
      this.log.error(`Can't save the fleet's config etag=${desired.etag}: ${reason(error)}`);
      return;
    }
    this.saved = desired;
    this.nextClass.replace(desired.config);
    this.log.info(`Received config etag=${desired.etag} room=${candidate.data.janus.room ?? '-'}`);
    this.pending = candidate.data;
    this.applyWhenIdle();
  }

  /** Between classes only: a config change never interrupts a class. */
  private applyWhenIdle(): void {
    if (!this.pending) return;
    const state = this.session.state.state;
    if (!isBetweenClasses(state)) {
      this.log.info(`Deferred config until the class ends state=${state}`);
      return;
    }
    const next = this.pending;
    this.pending = undefined;
    this.config.replace(next);
    this.log.info(`Applied config room=${next.janus.room ?? '-'}`);
  }
}
