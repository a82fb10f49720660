import { SimulationUnsupportedError, type DeviceHealth } from './health.js';

export interface CameraInfo {
  readonly kind: 'uvc' | 'csi';
  /** Human name, e.g. "HD Pro Webcam C920". */
  readonly name: string;
  /** What Chromium's MediaDeviceInfo.label contains for this camera, to pick it in getUserMedia. */
  readonly browserLabel: string;
  readonly path?: string;
  /** CSI cameras: libcamera's camera number, for stills. */
  readonly csiIndex?: number;
}

/** The box's camera: finding it, keeping it available to Chromium, reporting its health. */
export abstract class CameraPort {
  /** Look for the configured camera now (hot-plug aware); never throws, returns its health. */
  abstract check(): Promise<DeviceHealth>;
  /** The camera in use, once found. */
  abstract current(): CameraInfo | undefined;
  /** Start whatever the browser needs to see the camera (e.g. the CSI bridge). Idempotent. */
  abstract ensureStarted(): Promise<void>;
  abstract ensureStopped(): Promise<void>;
  /** Plug or unplug the camera as a person would (sim only; real cameras throw SimulationUnsupportedError). */
  simulatePlugged(_plugged: boolean): void {
    throw new SimulationUnsupportedError('plugging the camera');
  }
}
