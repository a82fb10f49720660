import { describe, expect, it } from 'vitest';
import { Signal } from '../../../common/signal.js';
import type { KioskPagePort } from '../../../device/ports/kiosk-page.port.js';
import type { CameraPort } from '../../../device/ports/camera.port.js';
import type { MicrophonePort } from '../../../device/ports/microphone.port.js';
import type { SpeakerPort } from '../../../device/ports/speaker.port.js';
import type { StoragePort } from '../../../device/ports/storage.port.js';
import { HealthService } from '../../../device/services/health.service.js';
import { FakeClock, flush } from '../../helpers/fake-clock.js';
import { strictFake } from '../../helpers/strict-fake.js';

function make() {
  const ok = async () => ({ status: 'ok' as const, detail: 'found' });
  return new HealthService(
    strictFake<CameraPort>('camera', { check: ok }),
    strictFake<MicrophonePort>('microphone', { check: ok }),
    strictFake<SpeakerPort>('speaker', { check: ok }),
    strictFake<KioskPagePort>('page', {
      connected: new Signal<void>('t.connected') as KioskPagePort['connected'],
      disconnected: new Signal<void>('t.disconnected') as KioskPagePort['disconnected'],
    }),
    new FakeClock(),
    strictFake<StoragePort>('storage', { check: async () => ({ status: 'ok' }) }),
  );
}

describe('HealthService', () => {
  it('says "not checked" for camera, microphone, speaker and storage until it has looked at them', async () => {
    const health = make();
    const before = health.snapshot();
    expect([before.camera, before.microphone, before.speaker, before.storage].map((h) => h.status)).toEqual([
      'unchecked',
      'unchecked',
      'unchecked',
      'unchecked',
    ]);
    health.onApplicationBootstrap();
    await flush();
    const after = health.snapshot();
    expect([after.camera, after.microphone, after.speaker, after.storage].map((h) => h.status)).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
    health.onApplicationShutdown();
  });
});
