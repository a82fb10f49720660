import { describe, expect, it } from 'vitest';
import { Signal } from '../../../common/signal.js';
import { deviceConfigSchema } from '../../../device/config/device-config.schema.js';
import type { KioskPagePort } from '../../../device/ports/kiosk-page.port.js';
import { KioskBrowserPort } from '../../../device/ports/kiosk-browser.port.js';
import { ConfigService } from '../../../device/services/config.service.js';
import { KioskService } from '../../../device/services/kiosk.service.js';
import { MetricsService } from '../../../device/services/metrics.service.js';
import { strictFake } from '../../helpers/strict-fake.js';
import { FakeClock } from '../../helpers/fake-clock.js';

/**
 * The service with a browser that runs and answers DevTools with `answer`, and a page whose heartbeat
 * stops `silentAfterMs` after the start (never, by default).
 */
function kiosk(answer: () => Promise<unknown> = async () => 1, silentAfterMs = Infinity) {
  const clock = new FakeClock();
  const silentFrom = clock.now() + silentAfterMs;
  const calls = { stopped: 0, started: 0, asked: 0 };
  const browser = strictFake<KioskBrowserPort>('KioskBrowserPort', {
    exited: new Signal('exited'),
    ensureStarted: async () => void calls.started++,
    ensureStopped: async () => void calls.stopped++,
    isRunning: () => true,
    evaluate: (async () => {
      calls.asked++;
      return answer();
    }) as KioskBrowserPort['evaluate'],
  });
  const sut = new KioskService(
    browser,
    new ConfigService(
      deviceConfigSchema.parse({
        device: { id: 'jx-ruijin-01', displayName: '瑞金教学点' },
        janus: { url: 'ws://10.0.0.1:8188', room: 1234 },
        hardware: { mode: 'sim' },
        kiosk: { heartbeatTimeoutMs: 15_000 },
      }),
    ),
    clock,
    new MetricsService(),
    strictFake<KioskPagePort>('KioskPagePort', { heartbeatAt: () => Math.min(clock.now(), silentFrom) }),
  );
  return { clock, calls, sut };
}

/** A page that falls silent 2 s after the start. */
const withSilentPage = (answer: () => Promise<unknown>) => kiosk(answer, 2000);

describe('KioskService: a silent page', () => {
  it('is not relaunched while it still answers the browser: its messages are late on a starved box', async () => {
    const { clock, calls, sut } = withSilentPage(async () => 1);
    sut.onApplicationBootstrap();
    await clock.advance(16_000 + 2000);
    expect(calls.asked).toBeGreaterThan(0);
    await clock.advance(40_000);
    expect(calls.stopped).toBe(0);
    // Its answers keep it alive for systemd's watchdog too (LifecycleService), and are not asked every second.
    expect(clock.now() - sut.pageAliveAt()!).toBeLessThan(15_000);
    expect(calls.asked).toBeLessThanOrEqual(10);
    await sut.beforeApplicationShutdown();
  });

  it('is relaunched anyway after four timeouts of silence, even if it answers', async () => {
    const { clock, calls, sut } = withSilentPage(async () => 1);
    sut.onApplicationBootstrap();
    await clock.advance(2000 + 4 * 15_000 - 1000);
    expect(calls.stopped).toBe(0);
    await clock.advance(3000);
    expect(calls.stopped).toBe(1);
    await sut.beforeApplicationShutdown();
  });

  it('is relaunched when it does not answer within 5 s (a hung script)', async () => {
    const { clock, calls, sut } = withSilentPage(() => new Promise(() => undefined));
    sut.onApplicationBootstrap();
    await clock.advance(2000 + 16_000);
    expect(calls.asked).toBe(1);
    expect(calls.stopped).toBe(0);
    await clock.advance(5000);
    expect(calls.stopped).toBe(1);
    await sut.beforeApplicationShutdown();
  });

  it('is relaunched at once when the question fails (the renderer is gone)', async () => {
    const { clock, calls, sut } = withSilentPage(async () => {
      throw new Error('Target closed');
    });
    sut.onApplicationBootstrap();
    await clock.advance(2000 + 16_000);
    expect(calls.stopped).toBe(1);
    await sut.beforeApplicationShutdown();
  });
});

describe('KioskService', () => {
  it('leaves no timer behind when the daemon stops (a stopped daemon exits without the 1 s guard)', async () => {
    const { clock, sut } = kiosk();
    sut.onApplicationBootstrap();
    await clock.advance(3000);
    expect(clock.pending).toBeGreaterThan(0);
    await sut.beforeApplicationShutdown();
    expect(clock.pending).toBe(0);
  });
});
