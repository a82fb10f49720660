import { describe, expect, it } from 'vitest';
import { Signal } from '../../../common/signal.js';
import type { SessionSnapshot, SessionState } from '../../../device/domain/class-session.machine.js';
import type { KioskPageGateway } from '../../../device/gateways/kiosk-page.gateway.js';
import type { CameraPort } from '../../../device/ports/camera.port.js';
import type { DeviceHealth } from '../../../device/ports/health.js';
import { CameraWatchService } from '../../../device/services/camera-watch.service.js';
import type { ClassSessionService } from '../../../device/services/class-session.service.js';
import type { HealthMap, HealthService } from '../../../device/services/health.service.js';
import type { ScreenService } from '../../../device/services/screen.service.js';
import { strictFake } from './strict-fake.js';

function make() {
  let camera: DeviceHealth = { status: 'ok', detail: 'HD Pro Webcam C920' };
  let state: SessionState = 'idle';
  const sent: unknown[] = [];
  const audioOnly: boolean[] = [];
  const healthChanged = new Signal<HealthMap>('t.health');
  const sessionChanged = new Signal<SessionSnapshot>('t.session');
  const lifecycle: string[] = [];
  const service = new CameraWatchService(
    strictFake<CameraPort>('camera', {
      ensureStarted: async () => void lifecycle.push('start'),
      ensureStopped: async () => void lifecycle.push('stop'),
    }),
    strictFake<HealthService>('health', { changed: healthChanged, get: () => camera }),
    strictFake<ClassSessionService>('session', {
      changed: sessionChanged,
      get state() {
        return { state };
      },
    }),
    strictFake<KioskPageGateway>('page', { send: (m) => sent.push(m) > 0 }),
    strictFake<ScreenService>('screen', { setAudioOnly: (a) => void audioOnly.push(a) }),
  );
  service.onApplicationBootstrap();
  return {
    service,
    sent,
    audioOnly,
    lifecycle,
    go: (next: SessionState) => {
      state = next;
      sessionChanged.emit({ state });
    },
    camera: (health: DeviceHealth) => {
      camera = health;
      healthChanged.emit({} as HealthMap);
    },
  };
}

const MISSING: DeviceHealth = {
  status: 'missing',
  code: 'E-CAMERA-MISSING',
  detail: 'no USB camera is plugged in',
};

describe('CameraWatchService', () => {
  it('starts the camera at boot and stops it at shutdown', async () => {
    const box = make();
    await box.service.onApplicationShutdown();
    expect(box.lifecycle).toEqual(['start', 'stop']);
  });

  it('stops the video when the camera goes mid-class and resumes it when it is back', () => {
    const box = make();
    box.go('joining');
    box.go('live');
    box.camera(MISSING);
    expect(box.sent).toEqual([{ type: 'publisher.video', enabled: false }]);
    expect(box.audioOnly).toEqual([true]);
    box.camera(MISSING);
    box.camera({ status: 'ok', detail: 'HD Pro Webcam C920' });
    expect(box.sent).toEqual([
      { type: 'publisher.video', enabled: false },
      { type: 'publisher.video', enabled: true },
    ]);
    expect(box.audioOnly).toEqual([true, false]);
  });

  it('keeps following the camera while reconnecting', () => {
    const box = make();
    box.go('live');
    box.go('reconnecting');
    box.camera(MISSING);
    expect(box.sent).toEqual([{ type: 'publisher.video', enabled: false }]);
  });

  it('says nothing to the page about the camera while idle', () => {
    const box = make();
    box.camera(MISSING);
    box.camera({ status: 'ok' });
    expect(box.sent).toEqual([]);
    expect(box.audioOnly).toEqual([]);
  });

  it('marks a class that started without a camera as sound-only, and clears that when it ends', () => {
    const box = make();
    box.camera(MISSING);
    box.go('joining');
    box.go('live');
    expect(box.audioOnly).toEqual([true]);
    expect(box.sent).toEqual([]);
    box.go('leaving');
    expect(box.audioOnly).toEqual([true, false]);
  });
});
