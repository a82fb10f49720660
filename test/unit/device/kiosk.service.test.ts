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

describe('KioskService', () => {
  it('leaves no timer behind when the daemon stops (a stopped daemon exits without the 1 s guard)', async () => {
    const clock = new FakeClock();
    const browser = strictFake<KioskBrowserPort>('KioskBrowserPort', {
      exited: new Signal('exited'),
      ensureStarted: async () => undefined,
      ensureStopped: async () => undefined,
      isRunning: () => true,
    });
    const sut = new KioskService(
      browser,
      new ConfigService(
        deviceConfigSchema.parse({
          device: { id: 'jx-ruijin-01', displayName: '瑞金教学点' },
          janus: { url: 'ws://10.0.0.1:8188', room: 1234 },
          hardware: { mode: 'sim' },
        }),
      ),
      clock,
      new MetricsService(),
      strictFake<KioskPagePort>('KioskPagePort', { heartbeatAt: () => clock.now() }),
    );
    sut.onApplicationBootstrap();
    await clock.advance(3000);
    expect(clock.pending).toBeGreaterThan(0);
    await sut.beforeApplicationShutdown();
    expect(clock.pending).toBe(0);
  });
});
