import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { Backoff } from '../domain/backoff.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import { KioskBrowserPort } from '../ports/kiosk-browser.port.js';
import { KioskPagePort } from '../ports/kiosk-page.port.js';
import { ConfigService } from './config.service.js';
import { MetricsService } from './metrics.service.js';

/** How long a silent page has to answer DevTools before it is taken for hung. */
const PAGE_ANSWER_MS = 5000;
/** A silent page that still answers is relaunched anyway after this many heartbeat timeouts. */
const LATE_PAGE_LIMIT = 4;

/** Keeps the kiosk browser showing the box's page: launches it, relaunches it when it dies. */
@Injectable()
export class KioskService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = createLogger(KioskService.name);
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 5000 });
  private relaunchTimer: TimerHandle | undefined;
  private hangTimer: TimerHandle | undefined;
  private launchedAt = 0;
  private stopping = false;
  /** A DevTools question to a silent page is under way. */
  private askingPage = false;
  /** The page is silent but answered: its messages are late, not lost (logged once). */
  private latePage = false;
  /** When a silent page last answered DevTools. */
  private answeredAt: number | undefined;

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
    // What the old page answered says nothing of the new one.
    this.latePage = false;
    this.answeredAt = undefined;
    await this.browser.ensureStopped().catch(() => undefined);
    this.scheduleLaunch(0);
  }

  /**
   * A page that stopped talking (a hung renderer, a frozen script) is as good as dead: relaunch. But a
   * page can be silent and alive: on a box short of CPU its messages wait behind the class's packets in
   * Chromium's network service (measured under a Pi 4's budget, issue 16: heartbeats 12–16 s late while
   * the page ran on), and a relaunch then would end the class it is keeping up with. So a silent page is
   * first asked through the browser itself (DevTools, which does not pass the network service); one
   * that answers is given up to `LATE_PAGE_LIMIT` timeouts before it is relaunched anyway.
   */
  private checkHung(): void {
    if (this.stopping || this.askingPage || !this.browser.isRunning()) return;
    const last = Math.max(this.launchedAt, this.page.heartbeatAt() ?? 0);
    const silentMs = this.clock.now() - last;
    const timeoutMs = this.config.current.kiosk.heartbeatTimeoutMs;
    if (silentMs <= timeoutMs) {
      if (this.latePage) this.log.info('The kiosk page talks again');
      this.latePage = false;
      return;
    }
    const silent = `the page has been silent for ${Math.round(silentMs / 1000)} s`;
    if (silentMs > timeoutMs * LATE_PAGE_LIMIT) return this.restartHung(silent);
    if (this.latePage && this.clock.now() - (this.answeredAt ?? 0) < PAGE_ANSWER_MS) return;
    this.askingPage = true;
    void this.pageAnswers().then((alive) => {
      this.askingPage = false;
      if (this.stopping) return;
      if (!alive) return this.restartHung(`${silent} and does not answer`);
      this.answeredAt = this.clock.now();
      if (!this.latePage)
        this.log.warn(
          `The kiosk page is late: ${silent}, but it answers the browser; its messages are held up ` +
            '(the box is short of CPU). Not relaunching it.',
        );
      this.latePage = true;
    });
  }

  /**
   * When the page last showed that it runs: its own heartbeat, or, while its messages are held up, its
   * answer to the hang check. systemd's watchdog is fed by this, so a late page does not get the daemon
   * restarted where the kiosk itself would not relaunch it.
   */
  pageAliveAt(): number | undefined {
    const heard = this.page.heartbeatAt();
    if (!this.latePage || this.answeredAt === undefined) return heard;
    return Math.max(heard ?? 0, this.answeredAt);
  }

  private restartHung(why: string): void {
    this.launchedAt = this.clock.now();
    void this.restart(why);
  }

  /** Whether the page's script still runs, asked through DevTools within `PAGE_ANSWER_MS`. */
  private async pageAnswers(): Promise<boolean> {
    let timer: TimerHandle | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = this.clock.setTimeout(() => resolve(false), PAGE_ANSWER_MS);
    });
    try {
      return await Promise.race([
        this.browser.evaluate<number>('1').then(
          (one) => one === 1,
          () => false,
        ),
        timeout,
      ]);
    } finally {
      this.clock.clearTimeout(timer);
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
