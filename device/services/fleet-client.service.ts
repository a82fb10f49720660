import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  MAX_LOG_LINE,
  MAX_LOG_LINES,
  type ActionResult,
  type DesiredConfig,
  type Heartbeat,
  type PendingAction,
} from '../../common/fleet-protocol.js';
import type { UpdateOffer, UpdateReport } from '../../common/release-manifest.js';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { redactSecrets } from '../../common/redact.js';
import { Signal } from '../../common/signal.js';
import { describeIssues } from '../../common/zod-issues.js';
import { applyDesired } from '../config/config-layers.js';
import { deviceConfigSchema, secretValues, type DeviceConfig } from '../config/device-config.schema.js';
import { Backoff } from '../domain/backoff.js';
import { nextClass, type NextClass } from '../domain/timetable.js';
import { KioskPagePort } from '../ports/kiosk-page.port.js';
import { writeFailureHealth } from '../ports/storage.port.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import {
  FleetError,
  FleetPort,
  FleetStatePort,
  type EnrolmentState,
  type FleetSession,
} from '../ports/fleet.port.js';
import { HostPort } from '../ports/host.port.js';
import { LogSourcePort } from '../ports/log-source.port.js';
import { ClassSessionService } from './class-session.service.js';
import { ConfigService } from './config.service.js';
import { HealthService } from './health.service.js';
import { KioskService } from './kiosk.service.js';
import { StatusService } from './status.service.js';

type Saved = { config: DesiredConfig; etag: string };

/** A log report stays well under the fleet server's 1 MiB body limit, escaping included. */
const LOG_REPORT_CHARS = 400_000;

/** The newest lines whose JSON encoding fits in `budget` characters, oldest first. */
function newestWithin(lines: string[], budget: number): string[] {
  let used = 0;
  let first = lines.length;
  while (first > 0) {
    used += JSON.stringify(lines[first - 1]).length + 1;
    if (used > budget) break;
    first--;
  }
  return lines.slice(first);
}

/**
 * The box's side of the fleet: enrols at first boot, sends heartbeats, polls the desired
 * config (ETag) and applies it between classes, carries out IT's remote actions. The server
 * being away never stops the box: it keeps its last good config and catches up later.
 */
@Injectable()
export class FleetClientService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger(FleetClientService.name);
  private readonly enrolBackoff = new Backoff({ initialMs: 2000, maxMs: 60_000 });
  private enrolment: EnrolmentState | undefined;
  private privateKeyPem: string | undefined;
  private clockOffsetMs = 0;
  private saved: Saved | undefined;
  /** A validated config waiting for the class to end. */
  private pending: DeviceConfig | undefined;
  private timer: TimerHandle | undefined;
  private ticking: Promise<void> | undefined;
  private reachable: boolean | undefined;
  private lastRttMs: number | undefined;
  private readonly handledActions = new Set<string>();
  private rebootWanted: PendingAction | undefined;
  private stopping = false;
  private rounds: Promise<void> = Promise.resolve();
  private retrySoon = false;
  private nextClassTimer: TimerHandle | undefined;
  /** The next class moved on (a class ended, or a new timetable came). */
  readonly nextClassChanged = new Signal<{ title: string; startsAt: string } | undefined>(
    'fleet.nextClassChanged',
  );
  /** The release the fleet wants this box to run (undefined: none), after every heartbeat. */
  readonly updateOffered = new Signal<UpdateOffer | undefined>('fleet.updateOffered');
  private updateReport: () => UpdateReport | undefined = () => undefined;

  constructor(
    private readonly config: ConfigService,
    private readonly session: ClassSessionService,
    private readonly status: StatusService,
    private readonly kiosk: KioskService,
    private readonly page: KioskPagePort,
    private readonly clock: ClockPort,
    private readonly fleet: FleetPort,
    private readonly state: FleetStatePort,
    private readonly host: HostPort,
    private readonly health: HealthService,
    private readonly logs: LogSourcePort,
  ) {}

  onApplicationBootstrap(): void {
    this.session.changed.on(FleetClientService.name, () => this.onSessionChanged());
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.clock.clearTimeout(this.timer);
    this.clock.clearTimeout(this.nextClassTimer);
    await this.ticking;
  }

  /** The class under way or the next one on the centre's timetable, for the idle screen. */
  nextClass(): { title: string; startsAt: string } | undefined {
    const next = this.upcoming();
    return next && { title: next.title, startsAt: next.startsAt };
  }

  private upcoming(): NextClass | undefined {
    if (!this.saved) return undefined;
    return nextClass(this.saved.config.timetable, this.saved.config.timezone, this.clock.now());
  }

  /** Tell the screen when a class ends, so an idle box never shows a class that is over. */
  private armNextClassTimer(): void {
    this.clock.clearTimeout(this.nextClassTimer);
    this.nextClassTimer = undefined;
    const next = this.upcoming();
    if (!next || this.stopping) return;
    const delay = Math.max(0, Date.parse(next.endsAt) - this.clock.now()) + 1000;
    this.nextClassTimer = this.clock.setTimeout(() => {
      this.nextClassChanged.emit(this.nextClass());
      this.armNextClassTimer();
    }, delay);
  }

  /** The class under way or next, with its end, for the updater's window. */
  classWindow(): NextClass | undefined {
    return this.upcoming();
  }

  /** What signed requests need; undefined before enrolment. */
  signingSession(): FleetSession | undefined {
    return this.enrolment && this.privateKeyPem ? this.fleetSession() : undefined;
  }

  /** The updater's progress goes into every heartbeat. */
  reportUpdatesWith(source: () => UpdateReport | undefined): void {
    this.updateReport = source;
  }

  isEnrolled(): boolean {
    return this.enrolment !== undefined;
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
    if (!this.enrolment) {
      await this.restore();
      if (!this.enrolment && !(await this.enrol())) return;
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
          const interval = this.enrolment
            ? this.config.current.fleet!.heartbeatSeconds * 1000
            : this.enrolBackoff.next();
          this.schedule(this.retrySoon ? 0 : interval);
          this.retrySoon = false;
        });
    }, delayMs);
  }

  private fleetSettings(): NonNullable<DeviceConfig['fleet']> {
    const fleet = this.config.current.fleet;
    if (!fleet) throw new FleetError('E-FLEET-STATE', 'the config has no fleet section');
    return fleet;
  }

  /** Pick up an enrolment made before this start (the usual case after the first boot). */
  private async restore(): Promise<void> {
    const enrolment = await this.state.readEnrolment();
    if (!enrolment) return;
    const key = await this.state.ensureKeyPair();
    this.privateKeyPem = key.privateKeyPem;
    this.saved = await this.state.readDesired().catch((error: unknown) => {
      this.log.warn(`Can't use the saved fleet config: ${reason(error)}`);
      return undefined;
    });
    this.enrolment = enrolment;
    this.armNextClassTimer();
    this.log.info(`Restored enrolment device=${enrolment.deviceId} fleet=${enrolment.fleetUrl}`);
  }

  /** First boot: seed → key pair → POST /enrol → save state → delete seed. */
  private async enrol(): Promise<boolean> {
    const seedFile = this.fleetSettings().enrolmentFile;
    const seed = await this.state.readSeed(seedFile).catch((error: unknown) => {
      this.log.error(`Can't enrol: ${reason(error)}`);
      return undefined;
    });
    if (!seed) {
      this.log.warn(`Can't enrol: no enrolment file at ${seedFile}; waiting for one`);
      return false;
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
      this.enrolBackoff.reset();
      this.reachable = true;
      this.log.info(`Enrolled device=${answer.deviceId} centre=${answer.centreId}`);
      await this.receive({ config: answer.config, etag: answer.etag });
      return true;
    } catch (error) {
      const refused = error instanceof FleetError && error.code === 'E-FLEET-REFUSED';
      this.log.error(
        `Can't enrol device=${seed.deviceId}: ${reason(error)}${refused ? ' (ask IT for a new enrolment file)' : ''}`,
      );
      return false;
    }
  }

  private fleetSession(): FleetSession {
    const enrolment = this.enrolment!;
    return {
      url: enrolment.fleetUrl,
      deviceId: enrolment.deviceId,
      privateKeyPem: this.privateKeyPem!,
      clockOffsetMs: this.clockOffsetMs,
    };
  }

  private async exchange(): Promise<void> {
    try {
      const started = this.clock.now();
      const answer = await this.fleet.heartbeat(this.fleetSession(), await this.heartbeat());
      this.lastRttMs = Math.max(0, Math.round(this.clock.now() - started));
      this.markReachable(true);
      if (answer.configEtag !== this.saved?.etag) await this.pollConfig();
      for (const action of answer.actions) await this.runAction(action);
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
      // Wall-clock time on purpose: the HTTP adapter stamps requests with Date.now() + this offset.
      const offset = error.details.serverTimeMs - Date.now();
      // Retry at once only when the offset moved, so a server whose clock jumps can't cause a loop.
      this.retrySoon = Math.abs(offset - this.clockOffsetMs) > 1000;
      this.clockOffsetMs = offset;
      this.log.warn(`Adjusted signing clock offsetMs=${offset}: the box clock is off`);
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
    };
  }

  private async pollConfig(): Promise<void> {
    const answer = await this.fleet.fetchConfig(this.fleetSession(), this.saved?.etag);
    if (answer === 'unchanged') return;
    await this.receive(answer);
  }

  /** Validate the fleet's config against this box's config; only a good one is saved and applied. */
  private async receive(desired: Saved): Promise<void> {
    const current = this.config.current as unknown as Record<string, unknown>;
    // A box that started without a seed runs under a placeholder identity until it enrols: the
    // enrolled one goes into the config with the fleet's first answer (a no-op after that).
    const enrolled = this.enrolment && {
      ...current,
      device: {
        ...this.config.current.device,
        id: this.enrolment.deviceId,
        displayName: this.enrolment.displayName,
      },
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
    this.armNextClassTimer();
    this.nextClassChanged.emit(this.nextClass());
    this.log.info(`Received config etag=${desired.etag} room=${candidate.data.janus.room ?? '-'}`);
    this.pending = candidate.data;
    this.applyWhenIdle();
  }

  private inClass(): boolean {
    const state = this.session.state.state;
    return state !== 'idle' && state !== 'error';
  }

  private onSessionChanged(): void {
    if (this.inClass()) return;
    this.applyWhenIdle();
    if (this.rebootWanted) void this.rebootNow(this.rebootWanted);
  }

  /** Between classes only: a config change never interrupts a class. */
  private applyWhenIdle(): void {
    if (!this.pending) return;
    if (this.inClass()) {
      this.log.info(`Deferred config until the class ends state=${this.session.state.state}`);
      return;
    }
    const next = this.pending;
    this.pending = undefined;
    this.config.replace(next);
    this.log.info(`Applied config room=${next.janus.room ?? '-'}`);
  }

  private async runAction(action: PendingAction): Promise<void> {
    if (this.handledActions.has(action.id)) return;
    this.handledActions.add(action.id);
    this.log.info(`Running remote action action=${action.kind} id=${action.id}`);
    switch (action.kind) {
      case 'restart-kiosk':
        return this.report(action, () =>
          this.kiosk.restart('remote action from IT').then(() => ({ ok: true })),
        );
      case 'snapshot':
        return this.report(action, async () => {
          const jpeg = await this.page.requestSnapshot();
          return { ok: true, image: `data:image/jpeg;base64,${jpeg.toString('base64')}` };
        });
      case 'screenshot':
        return this.report(action, async () => {
          const jpeg = await this.kiosk.screenshot();
          return { ok: true, image: `data:image/jpeg;base64,${jpeg.toString('base64')}` };
        });
      case 'logs':
        return this.report(action, async () => {
          // Secrets go here, before the lines leave the box (the fleet server redacts once more).
          const known = [
            ...secretValues(this.config.current),
            ...(this.privateKeyPem ? [this.privateKeyPem] : []),
          ];
          const lines = (await this.logs.recentLines(MAX_LOG_LINES)).map((line) =>
            redactSecrets(line, known).slice(0, MAX_LOG_LINE),
          );
          return { ok: true, lines: newestWithin(lines, LOG_REPORT_CHARS) };
        });
      case 'reboot-when-idle':
        if (this.inClass()) {
          this.rebootWanted = action;
          this.log.info(`Deferred reboot until the class ends id=${action.id}`);
          return;
        }
        return this.rebootNow(action);
      default:
        // A newer fleet server may know actions this version doesn't: say so rather than ignore it.
        return this.report(action, () =>
          Promise.resolve({
            ok: false,
            detail: `this box (version ${this.status.status().version}) can't do "${action.kind}"`,
          }),
        );
    }
  }

  private async rebootNow(action: PendingAction): Promise<void> {
    this.rebootWanted = undefined;
    // Reported first: after the reboot nobody is left to say it happened.
    await this.report(action, () => Promise.resolve({ ok: true, detail: 'rebooting' }));
    await this.host.reboot().catch((error: unknown) => this.log.error(`Can't reboot: ${reason(error)}`));
  }

  private async report(action: PendingAction, work: () => Promise<ActionResult>): Promise<void> {
    let result: ActionResult;
    try {
      result = await work();
    } catch (error) {
      this.log.warn(`Can't carry out remote action action=${action.kind} id=${action.id}: ${reason(error)}`);
      result = { ok: false, detail: reason(error).slice(0, 500) };
    }
    try {
      await this.fleet.reportAction(this.fleetSession(), action.id, result);
    } catch (error) {
      // Not reported: the server resends it, and the next start may try again.
      this.handledActions.delete(action.id);
      this.log.warn(`Can't report remote action id=${action.id}: ${reason(error)}`);
    }
  }
}
