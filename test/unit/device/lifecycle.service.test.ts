import { describe, expect, it } from 'vitest';
import { Signal } from '../../../common/signal.js';
import { deviceConfigSchema } from '../../../device/config/device-config.schema.js';
import type { SessionSnapshot } from '../../../device/domain/class-session.machine.js';
import type { KioskPagePort } from '../../../device/ports/kiosk-page.port.js';
import { SystemdPort } from '../../../device/ports/systemd.port.js';
import type { ClassSessionService } from '../../../device/services/class-session.service.js';
import { ConfigService } from '../../../device/services/config.service.js';
import type { KioskService } from '../../../device/services/kiosk.service.js';
import { LifecycleService } from '../../../device/services/lifecycle.service.js';
import { strictFake } from '../../helpers/strict-fake.js';
import { FakeClock } from '../../helpers/fake-clock.js';

/** What systemd was told, in order. */
class RecordingSystemd extends SystemdPort {
  readonly sent: Record<string, string>[] = [];
  async notify(fields: Record<string, string>): Promise<void> {
    this.sent.push(fields);
  }
  watchdogIntervalMs(): number {
    return 5000;
  }
  count(field: string): number {
    return this.sent.filter((f) => field in f).length;
  }
}

function world() {
  const clock = new FakeClock();
  const systemd = new RecordingSystemd();
  const page = { heartbeat: undefined as number | undefined, connected: new Signal<void>('test.page') };
  const config = new ConfigService(
    deviceConfigSchema.parse({
      device: { id: 'jx-ruijin-01', displayName: '瑞金教学点' },
      janus: { url: 'ws://10.0.0.1:8188', room: 1234 },
      hardware: { mode: 'sim' },
      kiosk: { heartbeatTimeoutMs: 60_000 },
    }),
  );
  const sut = new LifecycleService(
    systemd,
    strictFake<ClassSessionService>('ClassSessionService', {
      state: { state: 'idle' } as SessionSnapshot,
      changed: new Signal<SessionSnapshot>('test.session'),
    }),
    strictFake<KioskPagePort>('KioskPagePort', {
      isConnected: () => page.heartbeat !== undefined,
      heartbeatAt: () => page.heartbeat,
      connected: page.connected,
    }),
    config,
    clock,
    // A page that talks for itself: what the kiosk says of its life is its heartbeat.
    strictFake<KioskService>('KioskService', { pageAliveAt: () => page.heartbeat }),
  );
  return { clock, systemd, page, sut };
}

describe('LifecycleService', () => {
  it('feeds the watchdog while a slow first page load is within the page allowance, and stops after', async () => {
    const w = world();
    const ready = w.sut.announceReady();
    // READY waits 30 s at most for the page.
    await w.clock.advance(30_000);
    await ready;
    expect(w.systemd.count('READY')).toBe(1);
    // No heartbeat yet: 55 s after READY the page still has time (60 s allowance).
    await w.clock.advance(55_000);
    expect(w.systemd.count('WATCHDOG')).toBe(11);
    // Past the allowance without a first heartbeat: systemd's watchdog is left to act.
    await w.clock.advance(20_000);
    expect(w.systemd.count('WATCHDOG')).toBe(11);
  });

  it('feeds again once the page talks, and stops when it falls silent', async () => {
    const w = world();
    const ready = w.sut.announceReady();
    w.page.heartbeat = w.clock.now();
    w.page.connected.emit();
    await ready;
    await w.clock.advance(10_000);
    expect(w.systemd.count('WATCHDOG')).toBe(2);
    await w.clock.advance(70_000);
    // Silent since the start: fed until 60 s, then not.
    expect(w.systemd.count('WATCHDOG')).toBe(11);
  });

  it("does not call a new version proven healthy before its page's first heartbeat, allowance or not", async () => {
    const w = world();
    const ready = w.sut.announceReady();
    await w.clock.advance(30_000);
    await ready;
    // Within the allowance: healthy enough to feed the watchdog, not proven for an update's trial.
    expect(w.sut.isHealthy()).toBe(true);
    expect(w.sut.isProvenHealthy()).toBe(false);
    w.page.heartbeat = w.clock.now();
    expect(w.sut.isProvenHealthy()).toBe(true);
  });
});
