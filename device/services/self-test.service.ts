import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { isErrorCode, type ErrorCode } from '../../common/error-catalog.js';
import { ClassboxError, reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { Signal } from '../../common/signal.js';
import { SELF_TEST_CHECKS, type SelfTestCheck, type SelfTestResult } from '../domain/self-test.js';
import { KioskPagePort } from '../ports/kiosk-page.port.js';
import { CameraPort } from '../ports/camera.port.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import type { DeviceHealth } from '../ports/health.js';
import { JanusPort } from '../ports/janus.port.js';
import { MicrophonePort } from '../ports/microphone.port.js';
import { NetworkPort } from '../ports/network.port.js';
import { SpeakerPort } from '../ports/speaker.port.js';
import { ClassSessionService } from './class-session.service.js';
import { ConfigService } from './config.service.js';
import { HealthService } from './health.service.js';
import { LedService } from './led.service.js';

/** How long the results stay on the idle screen. */
export const SELF_TEST_SHOW_MS = 60_000;
/** How long the microphone may take to hear something (the room's own noise is enough). */
export const MIC_LISTEN_MS = 3000;
/** A level below this is silence (the page's meter is 0..1 RMS). */
export const MIC_SILENCE_LEVEL = 0.01;
export const TONE_HZ = 880;
export const TONE_MS = 700;
const NETWORK_TIMEOUT_MS = 3000;
const SERVER_TIMEOUT_MS = 5000;

/**
 * `unchecked`: the device is there (sysfs, ALSA) but the kiosk page, which holds camera, microphone
 * and speaker, is not connected to try it: found is not working, so the screen says "not checked".
 */
type Outcome =
  | { ok: true; detail?: string }
  | { ok: false; code: string; detail: string }
  | { ok: 'unchecked'; detail: string };

/** A check that found a fault: its code and what went wrong end up on the screen. */
class CheckFailed extends ClassboxError {}

/**
 * The self-test: camera, microphone, speaker (a short tone), network and the Janus server, one
 * after the other, each result shown on screen as it comes in. The status LED double-blinks meanwhile.
 */
@Injectable()
export class SelfTestService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger(SelfTestService.name);
  private current: SelfTestResult[] | undefined;
  private running = false;
  private clearTimer: TimerHandle | undefined;
  private lastMedia: { microphone: string; level?: number } | undefined;
  private readonly heard = new Signal<number>('selfTest.heard');
  readonly changed = new Signal<readonly SelfTestResult[] | undefined>('selfTest.changed');

  constructor(
    private readonly session: ClassSessionService,
    private readonly camera: CameraPort,
    private readonly microphone: MicrophonePort,
    private readonly speaker: SpeakerPort,
    private readonly page: KioskPagePort,
    private readonly janus: JanusPort,
    private readonly network: NetworkPort,
    private readonly health: HealthService,
    private readonly leds: LedService,
    private readonly config: ConfigService,
    private readonly clock: ClockPort,
  ) {}

  onApplicationBootstrap(): void {
    const owner = SelfTestService.name;
    this.session.selfTestRequested.on(owner, () => void this.run());
    this.page.media.on(owner, (media) => {
      this.lastMedia = media;
      if (media.microphone === 'ok' && media.level !== undefined) this.heard.emit(media.level);
    });
    // Results belong to the idle screen: a class starting clears them.
    this.session.changed.on(owner, ({ state }) => {
      if (state !== 'idle' && state !== 'error' && this.current && !this.running) this.clear();
    });
  }

  onApplicationShutdown(): void {
    this.clock.clearTimeout(this.clearTimer);
  }

  isRunning(): boolean {
    return this.running;
  }

  /** The checks so far (running, ok or failed), while shown; undefined when no self-test is on screen. */
  results(): readonly SelfTestResult[] | undefined {
    return this.current;
  }

  /** Run every check once; a second request while one runs is ignored. */
  async run(): Promise<readonly SelfTestResult[]> {
    if (this.running) return this.current ?? [];
    this.running = true;
    this.clock.clearTimeout(this.clearTimer);
    this.current = [];
    this.leds.setSelfTestRunning(true);
    this.log.info('Started self-test');
    this.changed.emit(this.current);
    try {
      for (const check of SELF_TEST_CHECKS) {
        this.put({ check, status: 'running' });
        const outcome = await this.attempt(check);
        this.put(resultOf(check, outcome));
        if (outcome.ok === true)
          this.log.info(
            `Passed self-test check=${check}${outcome.detail ? ` detail="${outcome.detail}"` : ''}`,
          );
        else if (outcome.ok === 'unchecked')
          this.log.warn(`Can't check self-test check=${check}: the kiosk page is not connected`);
        else this.log.warn(`Can't pass self-test check=${check}: ${outcome.code} ${outcome.detail}`);
      }
    } finally {
      this.running = false;
      this.leds.setSelfTestRunning(false);
      this.clearTimer = this.clock.setTimeout(() => this.clear(), SELF_TEST_SHOW_MS);
    }
    const failed = this.current.filter((r) => r.status === 'failed').map((r) => r.check);
    this.log.info(`Finished self-test failed=${failed.length > 0 ? failed.join(',') : 'none'}`);
    return this.current;
  }

  private clear(): void {
    this.clock.clearTimeout(this.clearTimer);
    this.current = undefined;
    this.changed.emit(undefined);
  }

  private put(result: SelfTestResult): void {
    if (!this.current) return;
    const index = this.current.findIndex((r) => r.check === result.check);
    this.current =
      index < 0 ? [...this.current, result] : this.current.map((r, i) => (i === index ? result : r));
    this.changed.emit(this.current);
  }

  private async attempt(check: SelfTestCheck): Promise<Outcome> {
    try {
      switch (check) {
        case 'camera':
          return await this.checkCamera();
        case 'microphone':
          return await this.checkMicrophone();
        case 'speaker':
          return await this.checkSpeaker();
        case 'network':
          return await this.checkNetwork();
        case 'server':
          return await this.checkServer();
      }
    } catch (error) {
      if (error instanceof CheckFailed) return { ok: false, code: error.code, detail: error.message };
      return { ok: false, code: 'E-INTERNAL', detail: reason(error) };
    }
  }

  private async checkCamera(): Promise<Outcome> {
    const name = this.require(await this.camera.check(), 'E-CAMERA-MISSING');
    this.health.set('camera', { status: 'ok', detail: name });
    // The page holds the camera (self-view); a still from its stream proves frames arrive.
    if (!this.page.isConnected()) return { ok: 'unchecked', detail: name };
    try {
      const image = await this.page.requestSnapshot();
      if (image.length < 4 || image[0] !== 0xff || image[1] !== 0xd8)
        throw new Error('the picture is not a JPEG');
    } catch (error) {
      throw new CheckFailed('E-CAMERA-NO-PICTURE', `${name}: ${reason(error)}`);
    }
    return { ok: true, detail: name };
  }

  private async checkMicrophone(): Promise<Outcome> {
    const name = this.require(await this.microphone.check(), 'E-MICROPHONE-MISSING');
    this.health.set('microphone', { status: 'ok', detail: name });
    if (!this.page.isConnected()) return { ok: 'unchecked', detail: name };
    if (this.lastMedia?.microphone === 'missing' || this.lastMedia?.microphone === 'error') {
      throw new CheckFailed('E-MICROPHONE-MISSING', `${name}: the screen can't open it`);
    }
    const level = await this.loudestWithin(MIC_LISTEN_MS);
    if (level < MIC_SILENCE_LEVEL)
      throw new CheckFailed('E-MICROPHONE-SILENT', `${name}: no sound for ${MIC_LISTEN_MS / 1000} s`);
    return { ok: true, detail: name };
  }

  private async checkSpeaker(): Promise<Outcome> {
    const name = this.require(await this.speaker.check(), 'E-SPEAKER-MISSING');
    this.health.set('speaker', { status: 'ok', detail: name });
    if (!this.page.isConnected()) return { ok: 'unchecked', detail: name };
    try {
      await this.page.requestTone(TONE_HZ, TONE_MS);
    } catch (error) {
      throw new CheckFailed('E-SPEAKER-FAILED', `${name}: ${reason(error)}`);
    }
    return { ok: true, detail: name };
  }

  private async checkNetwork(): Promise<Outcome> {
    const url = this.config.current.janus.url;
    if (url === undefined) throw new CheckFailed('E-NOT-CONFIGURED', 'no class server is configured yet');
    const { hostname, port } = hostAndPort(url);
    try {
      const ms = await this.network.probe(hostname, port, NETWORK_TIMEOUT_MS);
      return { ok: true, detail: `${hostname}:${port} in ${ms} ms` };
    } catch (error) {
      throw new CheckFailed('E-NETWORK-DOWN', reason(error));
    }
  }

  private async checkServer(): Promise<Outcome> {
    if (this.config.current.janus.url === undefined) {
      throw new CheckFailed('E-NOT-CONFIGURED', 'no class server is configured yet');
    }
    let timer: TimerHandle | undefined;
    try {
      await Promise.race([
        this.janus.ensureConnected(),
        new Promise<never>((_, reject) => {
          timer = this.clock.setTimeout(
            () => reject(new Error(`no answer within ${SERVER_TIMEOUT_MS} ms`)),
            SERVER_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (error) {
      throw new CheckFailed(
        error instanceof ClassboxError ? error.code : 'E-JANUS-UNREACHABLE',
        reason(error),
      );
    } finally {
      this.clock.clearTimeout(timer);
    }
    this.health.set('server', { status: 'ok' });
    return { ok: true };
  }

  /** The device's name when ok; otherwise the check fails with the port's own code and words. */
  private require(health: DeviceHealth, fallbackCode: ErrorCode): string {
    if (health.status === 'ok') return health.detail ?? '';
    const code = health.code !== undefined && isErrorCode(health.code) ? health.code : fallbackCode;
    throw new CheckFailed(code, health.detail ?? health.status);
  }

  /** The loudest microphone level the page reports within `ms`; resolves early once sound is heard. */
  private loudestWithin(ms: number): Promise<number> {
    return new Promise((resolve) => {
      let loudest = 0;
      const finish = (): void => {
        off();
        this.clock.clearTimeout(timer);
        resolve(loudest);
      };
      const off = this.heard.on(SelfTestService.name, (level) => {
        loudest = Math.max(loudest, level);
        if (loudest >= MIC_SILENCE_LEVEL) finish();
      });
      const timer = this.clock.setTimeout(finish, ms);
    });
  }
}

function resultOf(check: SelfTestCheck, outcome: Outcome): SelfTestResult {
  if (outcome.ok === true)
    return { check, status: 'ok', ...(outcome.detail ? { detail: outcome.detail } : {}) };
  if (outcome.ok === 'unchecked') return { check, status: 'unchecked', detail: outcome.detail };
  return { check, status: 'failed', code: outcome.code, detail: outcome.detail };
}

function hostAndPort(url: string): { hostname: string; port: number } {
  const parsed = new URL(url);
  const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'wss:' ? 443 : 80;
  // URL keeps the brackets of an IPv6 literal; net.connect wants the bare address.
  return { hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}
