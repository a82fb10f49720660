import { Injectable } from '@nestjs/common';
import { CameraPort, type CameraInfo } from '../ports/camera.port.js';
import type { DeviceHealth } from '../ports/health.js';

/** Chromium's fake capture device (`--use-fake-device-for-media-stream`) stands in for the camera. */
const FAKE_CAMERA: CameraInfo = { kind: 'uvc', name: 'Simulated camera', browserLabel: 'fake_device_0' };

/** A camera that is there until `unplug()`; used on laptops, in the demo and in tests. */
@Injectable()
export class SimCamera extends CameraPort {
  private plugged = true;

  async check(): Promise<DeviceHealth> {
    return this.plugged
      ? { status: 'ok', detail: FAKE_CAMERA.name }
      : { status: 'missing', code: 'E-CAMERA-MISSING', detail: 'the simulated camera is unplugged' };
  }
  current(): CameraInfo | undefined {
    return this.plugged ? FAKE_CAMERA : undefined;
  }
  async ensureStarted(): Promise<void> {}
  async ensureStopped(): Promise<void> {}

  override simulatePlugged(plugged: boolean): void {
    this.plugged = plugged;
  }
}
