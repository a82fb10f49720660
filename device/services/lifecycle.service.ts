import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createLogger } from '../../common/logger.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import { SystemdPort } from '../ports/systemd.port.js';
import { ClassSessionService } from './class-session.service.js';
import { ConfigService } from './config.service.js';
import { KioskPagePort } from '../ports/kiosk-page.port.js';
import { KioskService } from './kiosk.service.js';

const STATUS_WORDS: Record<string, string> = {
  idle: 'Idle, ready for class',
  joining: 'Joining the class',
  live: 'In class',
  leaving: 'Leaving the class',
  reconnecting: 'Reconnecting to the class',
  error: 'Error',
};

const READY_PAGE_WAIT_MS = 30_000;

/**
 * Talks to systemd: READY once the API listens, Janus has been tried and the page is up;
 * STATUS in words; WATCHDOG only while the event loop turns and the page is alive.
 */
@Injectable()
export class LifecycleService implements OnApplicationShutdown {
  private readonly log = createLogger(LifecycleService.name);
  private watchdogTimer: TimerHandle | undefined;
  private readyAt: number | undefined;

  constructor(
    private readonly systemd: SystemdPort,
    private readonly session: ClassSessionService,
    private readonly page: KioskPagePort,
    private readonly config: ConfigService,
    private readonly clock: ClockPort,
    private readonly kiosk: KioskService,
  ) {}

  /** Called by the daemon once the control API listens. */
  async announceReady(): Promise<void> {
    if (this.config.current.kiosk.browser === 'chromium' && !this.page.isConnected()) {
      await new Promise<void>((resolve) => {
        const timer = this.clock.setTimeout(resolve, READY_PAGE_WAIT_MS);
        const off = this.page.connected.on(LifecycleService.name, () => {
          this.clock.clearTimeout(timer);
          off();
          resolve();
        });
      });
    }
    this.readyAt = this.clock.now();
    await this.systemd.notify({ READY: '1', STATUS: this.statusText() });
    this.log.info('Announced ready');
    this.session.changed.on(
      LifecycleService.name,
      () => void this.systemd.notify({ STATUS: this.statusText() }),
    );
    const interval = this.systemd.watchdogIntervalMs();
    if (interval !== undefined) {
      this.watchdogTimer = this.clock.setInterval(() => void this.feedWatchdog(), interval);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.clock.clearInterval(this.watchdogTimer);
    await this.systemd.notify({ STOPPING: '1', STATUS: 'Stopping' });
  }

  isHealthy(): boolean {
    if (this.readyAt === undefined) return false;
    if (this.config.current.kiosk.browser !== 'chromium') return true;
    // A page that has not sent its first heartbeat yet (READY does not wait for it past 30 s) gets
    // the same allowance from READY as a silent one: the kiosk's own relaunch comes first, systemd's
    // restart only when that did not help. Before, a first page load slower than the watchdog (a
    // slow board, the VM test's emulated CPU) had the daemon killed and started again, in a loop.
    // A page whose messages are held up on a starved box but that still answers the kiosk's hang check
    // counts as alive, as it does for the kiosk (KioskService.pageAliveAt).
    const since = this.kiosk.pageAliveAt() ?? this.readyAt;
    return this.clock.now() - since < this.config.current.kiosk.heartbeatTimeoutMs;
  }

  /**
   * For an update's trial: healthy, and the page has proved it works by a heartbeat. `isHealthy` gives a
   * page that has not spoken yet its allowance (for the watchdog); a new version whose page never
   * connects must not be confirmed within that allowance (seen on the booted box, issue 15).
   */
  isProvenHealthy(): boolean {
    if (!this.isHealthy()) return false;
    return this.config.current.kiosk.browser !== 'chromium' || this.page.heartbeatAt() !== undefined;
  }

  private async feedWatchdog(): Promise<void> {
    // The timer firing at all shows the event loop turns; the page must be alive too.
    if (this.isHealthy()) await this.systemd.notify({ WATCHDOG: '1' });
    else this.log.warn("Can't feed watchdog: the kiosk page has not sent a heartbeat");
  }

  private statusText(): string {
    const { state, errorCode } = this.session.state;
    return `${STATUS_WORDS[state] ?? state}${errorCode ? ` (${errorCode})` : ''}`;
  }
}
