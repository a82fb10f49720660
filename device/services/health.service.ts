import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { Signal } from '../../common/signal.js';
import { KioskPagePort } from '../ports/kiosk-page.port.js';
import { CameraPort } from '../ports/camera.port.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import type { DeviceHealth } from '../ports/health.js';
import { MicrophonePort } from '../ports/microphone.port.js';
import { StoragePort } from '../ports/storage.port.js';
import { SpeakerPort } from '../ports/speaker.port.js';

export type HealthKey = 'camera' | 'microphone' | 'speaker' | 'buttons' | 'server' | 'kiosk' | 'storage';
export type HealthMap = Record<HealthKey, DeviceHealth>;

const CHECK_INTERVAL_MS = 5000;

/**
 * What works and what doesn't, device by device. The camera and microphone ports are asked
 * every few seconds (hot-plug); the server and kiosk entries are set by the services that own them.
 */
@Injectable()
export class HealthService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger(HealthService.name);
  private readonly health: HealthMap = {
    camera: { status: 'unchecked', detail: 'not checked yet' },
    microphone: { status: 'unchecked', detail: 'not checked yet' },
    speaker: { status: 'unchecked', detail: 'not checked yet' },
    buttons: { status: 'missing', code: 'E-GPIO', detail: 'not opened yet' },
    server: { status: 'missing', code: 'E-JANUS-UNREACHABLE', detail: 'not connected yet' },
    kiosk: { status: 'missing', code: 'E-KIOSK-DOWN', detail: 'the page has not connected yet' },
    storage: { status: 'unchecked', detail: 'not checked yet' },
  };
  /** A write that failed recently (disk full, read-only) stays reported until a write succeeds. */
  private writeFailure: DeviceHealth | undefined;
  private timer: TimerHandle | undefined;
  readonly changed = new Signal<HealthMap>('health.changed');

  constructor(
    private readonly camera: CameraPort,
    private readonly microphone: MicrophonePort,
    private readonly speaker: SpeakerPort,
    private readonly page: KioskPagePort,
    private readonly clock: ClockPort,
    private readonly storage: StoragePort,
  ) {}

  onApplicationBootstrap(): void {
    this.page.connected.on(HealthService.name, () => this.set('kiosk', { status: 'ok' }));
    this.page.disconnected.on(HealthService.name, () =>
      this.set('kiosk', { status: 'error', code: 'E-KIOSK-DOWN', detail: 'the page disconnected' }),
    );
    void this.checkDevices();
    this.timer = this.clock.setInterval(() => void this.checkDevices(), CHECK_INTERVAL_MS);
  }

  onApplicationShutdown(): void {
    this.clock.clearInterval(this.timer);
  }

  snapshot(): HealthMap {
    return { ...this.health };
  }

  get(key: HealthKey): DeviceHealth {
    return this.health[key];
  }

  set(key: HealthKey, value: DeviceHealth): void {
    const before = this.health[key];
    if (before.status === value.status && before.code === value.code && before.detail === value.detail)
      return;
    this.health[key] = value;
    // Logged when the verdict changes, not its detail: the free space alone changed at every MiB a
    // download wrote, a journal line each time (seen on the booted box, issue 15).
    if (before.status !== value.status || before.code !== value.code) {
      if (value.status === 'ok')
        this.log.info(`Found ${key} ok${value.detail ? ` detail="${value.detail}"` : ''}`);
      else this.log.warn(`Can't use ${key}: ${value.code ?? value.status} ${value.detail ?? ''}`.trim());
    }
    this.changed.emit(this.snapshot());
  }

  async checkDevices(): Promise<void> {
    const [camera, microphone, speaker] = await Promise.all([
      this.camera.check().catch((error: unknown) => errorHealth('E-CAMERA-MISSING', error)),
      this.microphone.check().catch((error: unknown) => errorHealth('E-MICROPHONE-MISSING', error)),
      this.speaker.check().catch((error: unknown) => errorHealth('E-SPEAKER-MISSING', error)),
    ]);
    this.set('camera', camera);
    this.set('microphone', microphone);
    this.set('speaker', speaker);
    const storage = await this.storage.check().catch((error: unknown) => errorHealth('E-DISK', error));
    this.set('storage', this.writeFailure ?? storage);
  }

  /** Services that save state report each write: a failure shows until a later write succeeds. */
  reportWrite(failure: DeviceHealth | undefined): void {
    this.writeFailure = failure;
    if (failure) this.set('storage', failure);
    else void this.checkDevices();
  }
}

function errorHealth(code: string, error: unknown): DeviceHealth {
  return { status: 'error', code, detail: reason(error) };
}
