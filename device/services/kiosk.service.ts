import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { Backoff } from '../domain/backoff.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import { KioskBrowserPort } from '../ports/kiosk-browser.port.js';
import { KioskPagePort } from '../ports/kiosk-page.port.js';
import { ConfigService } from './config.service.js';
import { MetricsService } from './metrics.service.js';

/** Keeps the kiosk browser showing the box's page: launches it, relaunches it when it dies. */
@Injectable()
export class KioskService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = createLogger(KioskService.name);
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 5000 });
  private relaunchTimer: TimerHandle | undefined;
  private hangTimer: TimerHandle | undefined;
  private launchedAt = 0;
  private stopping = false;

  constructor(
    private readonly browser: KioskBrowserPort,
    private readonly config: ConfigService,
    private readonly clock: ClockPort,
    private readonly metrics: MetricsService,
    private readonly page: KioskPagePort,
  ) {}

  pageUrl(): string {
    return `http://127.0.0.1:${this.config.current.control.port}/`;
  }

  onApplicationBootstrap(): void {
    this.browser.exited.on(KioskService.name, ({ reason: why }) => {
      if (this.stopping) return;
      this.log.warn(`Lost kiosk browser: ${why}`);
      this.scheduleLaunch();
    });
    this.hangTimer = this.clock.setInterval(() => this.checkHung(), 1000);
    void this.launch();
  }

  /** Before the HTTP server closes, so the browser's connections don't hold it open. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.clock.clearTimeout(this.relaunchTimer);
    // The page-hang check turns every second for the daemon's whole life: it alone kept a stopped
    // daemon's event loop alive until the 1 s exit guard fired.
    this.clock.clearInterval(this.hangTimer);
    await this.browser
      .ensureStopped()
      .catch((error: unknown) => this.log.warn(`Can't stop kiosk browser: ${reason(error)}`));
  }

  /** What the screen shows now, as a JPEG for IT (a remote action). */
  screenshot(): Promise<Buffer> {
    return this.browser.screenshot('jpeg');
  }

  /** Close and relaunch the browser (a remote action from IT, or a hung page). */
  async restart(why: string): Promise<void> {
    this.log.warn(`Restarting kiosk browser: ${why}`);
    await this.browser.ensureStopped().catch(() => undefined);
    this.scheduleLaunch(0);
  }

  /** A page that stopped talking (a hung renderer, a frozen script) is as good as dead: relaunch. */
  private checkHung(): void {
    if (this.stopping || !this.browser.isRunning()) return;
    const last = Math.max(this.launchedAt, this.page.heartbeatAt() ?? 0);
    const silentMs = this.clock.now() - last;
    if (silentMs > this.config.current.kiosk.heartbeatTimeoutMs) {
      this.launchedAt = this.clock.now();
      void this.restart(`the page has been silent for ${Math.round(silentMs / 1000)} s`);
    }
  }

  private scheduleLaunch(delay = this.backoff.next()): void {
    this.clock.clearTimeout(this.relaunchTimer);
    this.relaunchTimer = this.clock.setTimeout(() => void this.launch(true), delay);
  }

  private async launch(relaunch = false): Promise<void> {
    if (this.stopping) return;
    try {
      this.launchedAt = this.clock.now();
      await this.browser.ensureStarted(this.pageUrl());
      this.launchedAt = this.clock.now();
      if (relaunch) this.metrics.kioskRestarts.inc();
      this.backoff.reset();
    } catch (error) {
      this.log.error(`Can't start kiosk browser: ${reason(error)}`);
      if (!this.stopping) this.scheduleLaunch();
    }
  }
}
