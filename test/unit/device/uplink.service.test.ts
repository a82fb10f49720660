import { describe, expect, it } from 'vitest';
import { Signal } from '../../../common/signal.js';
import { parseDeviceConfig } from '../../../device/config/device-config.loader.js';
import type { SessionSnapshot, SessionState } from '../../../device/domain/class-session.machine.js';
import type { KioskPagePort } from '../../../device/ports/kiosk-page.port.js';
import type { JanusMediaEvent, JanusPort } from '../../../device/ports/janus.port.js';
import type { DeviceHealth } from '../../../device/ports/health.js';
import type { PageMessage } from '../../../device/protocol/kiosk-messages.js';
import type { ClassSessionService } from '../../../device/services/class-session.service.js';
import { ConfigService } from '../../../device/services/config.service.js';
import type { HealthMap, HealthService } from '../../../device/services/health.service.js';
import { UplinkService } from '../../../device/services/uplink.service.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { strictFake } from '../../helpers/strict-fake.js';

type Stats = Extract<PageMessage, { type: 'stats' }>;
const MISSING: DeviceHealth = {
  status: 'missing',
  code: 'E-CAMERA-MISSING',
  detail: 'no USB camera is plugged in',
};

function make() {
  let camera: DeviceHealth = { status: 'ok', detail: 'HD Pro Webcam C920' };
  let state: SessionState = 'idle';
  const sent: unknown[] = [];
  const stats = new Signal<Stats>('t.stats');
  const healthChanged = new Signal<HealthMap>('t.health');
  const sessionChanged = new Signal<SessionSnapshot>('t.session');
  const clock = new FakeClock();
  const config = new ConfigService(
    parseDeviceConfig(
      {
        device: { id: 'jx-ruijin-01', displayName: 'x' },
        janus: { url: 'ws://j', room: 1 },
        network: { probeSeconds: 10 },
      },
      't',
    ),
  );
  const service = new UplinkService(
    strictFake<KioskPagePort>('page', { stats, send: (m) => sent.push(m) > 0 }),
    strictFake<JanusPort>('janus', { mediaEvent: new Signal<JanusMediaEvent>('t.media') }),
    strictFake<ClassSessionService>('session', {
      changed: sessionChanged,
      get state() {
        return { state };
      },
    }),
    strictFake<HealthService>('health', { changed: healthChanged, get: () => camera }),
    config,
    clock,
  );
  service.onApplicationBootstrap();
  return {
    service,
    sent,
    clock,
    go: (next: SessionState) => {
      state = next;
      sessionChanged.emit({ state });
    },
    camera: (health: DeviceHealth) => {
      camera = health;
      healthChanged.emit({} as HealthMap);
    },
    stats: (videoKbps: number) =>
      stats.emit({
        type: 'stats',
        videoKbps,
        audioKbps: 32,
        framesDecoded: 0,
        qualityLimitation: 'bandwidth',
      }),
    statsWith: (s: Omit<Stats, 'type' | 'audioKbps' | 'framesDecoded'>) =>
      stats.emit({ type: 'stats', audioKbps: 32, framesDecoded: 0, ...s }),
  };
}

describe('UplinkService', () => {
  it('stops the video when the camera goes mid-class and resumes it when it is back', () => {
    const box = make();
    box.go('joining');
    box.go('live');
    expect(box.sent).toEqual([{ type: 'publisher.video', enabled: true }]);
    box.camera(MISSING);
    box.camera(MISSING);
    box.camera({ status: 'ok', detail: 'HD Pro Webcam C920' });
    expect(box.sent.slice(1)).toEqual([
      { type: 'publisher.video', enabled: false },
      { type: 'publisher.video', enabled: true },
    ]);
  });

  it('keeps following the camera while reconnecting', () => {
    const box = make();
    box.go('live');
    box.go('reconnecting');
    box.camera(MISSING);
    expect(box.sent.at(-1)).toEqual({ type: 'publisher.video', enabled: false });
  });

  it('says nothing to the page while idle', () => {
    const box = make();
    box.camera(MISSING);
    box.camera({ status: 'ok' });
    expect(box.sent).toEqual([]);
  });

  it('falls back to sound only when the congestion controller, not the encoder, says the link is short', async () => {
    // A Pi 4 short of CPU: its encoder names the CPU, not the link, whatever the link does. The uplink
    // estimate below what the senders may use is what tells the link is the limit too.
    const box = make();
    box.go('live');
    await box.clock.advance(9000);
    const report = (videoKbps: number, availableOutgoingKbps: number) =>
      box.statsWith({ videoKbps, qualityLimitation: 'cpu', availableOutgoingKbps });
    // A starved CPU on a good link: few frames, but the estimate is above the cap. Not the link.
    [60, 55, 50, 45].forEach((kbps) => report(kbps, 900));
    expect(box.service.audioOnly).toBe(false);
    // A still picture on a good link: little sent, the estimate under the senders' cap (632) but far above
    // what the smallest picture and the sound need. Not the link either.
    [40, 35, 30, 30].forEach((kbps) => report(kbps, 500));
    expect(box.service.audioOnly).toBe(false);
    [60, 55, 50].forEach((kbps) => report(kbps, 140));
    expect(box.service.audioOnly).toBe(true);
    expect(box.sent.at(-1)).toEqual({ type: 'publisher.video', enabled: false });
  });

  it('falls back to sound only on a weak uplink, says so, and tries video again later', async () => {
    const box = make();
    box.go('live');
    await box.clock.advance(9000); // past the ramp-up grace
    [60, 55, 50].forEach((kbps) => box.stats(kbps));
    expect(box.service.audioOnly).toBe(true);
    expect(box.sent.at(-1)).toEqual({ type: 'publisher.video', enabled: false });
    await box.clock.advance(10_000);
    // The try starts with the small picture (issue 16), not the full rate.
    expect(box.sent.at(-1)).toEqual({ type: 'publisher.video', enabled: true, layer: 'low' });
    expect(box.service.audioOnly).toBe(false);
  });

  it('enlarges the picture once the small one gets through, and waits longer after each failed try, up to a minute', async () => {
    const box = make();
    box.go('live');
    await box.clock.advance(9000);
    [60, 55, 50].forEach((kbps) => box.stats(kbps));
    // Failed tries double the wait (10 s, 20 s, 40 s, then at most 60 s): a link below even the small
    // picture's rate must not be congested half the time, sound included.
    for (const waitMs of [10_000, 20_000, 40_000, 60_000]) {
      await box.clock.advance(waitMs - 1);
      expect(box.sent.at(-1)).toEqual({ type: 'publisher.video', enabled: false });
      await box.clock.advance(1);
      expect(box.sent.at(-1)).toEqual({ type: 'publisher.video', enabled: true, layer: 'low' });
      await box.clock.advance(9000); // past the ramp-up grace
      [40, 40, 40].forEach((kbps) => box.stats(kbps));
      expect(box.sent.at(-1)).toEqual({ type: 'publisher.video', enabled: false });
    }
    await box.clock.advance(60_000);
    expect(box.sent.at(-1)).toEqual({ type: 'publisher.video', enabled: true, layer: 'low' });
    await box.clock.advance(9000);
    [150, 160, 170].forEach((kbps) => box.stats(kbps));
    expect(box.sent.at(-1)).toEqual({ type: 'publisher.video', enabled: true });
    expect(box.service.audioOnly).toBe(false);
  });

  it('does not judge the link while the encoder ramps up after going live', () => {
    const box = make();
    box.go('live');
    [10, 20, 30, 40].forEach((kbps) => box.stats(kbps));
    expect(box.service.audioOnly).toBe(false);
  });
});
