import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { chooseCamera, uvcCameras, v4l2Cameras } from '../domain/v4l2-devices.js';
import { CameraPort, type CameraInfo } from '../ports/camera.port.js';
import type { DeviceHealth } from '../ports/health.js';
import { readV4l2Nodes } from './v4l2.sysfs.js';

/**
 * A USB (UVC) camera, which Chromium opens by itself: this adapter only finds it in sysfs (on
 * every health check, so unplug and replug are seen) and tells the page which label to pick.
 * With `kind` `v4l2` any V4L2 capture device counts, not only UVC ones (v4l2-devices.ts).
 */
export class UvcCameraAdapter extends CameraPort {
  private readonly log = createLogger(UvcCameraAdapter.name);
  private found: CameraInfo | undefined;

  constructor(
    private readonly nameFragment: string | undefined,
    private readonly sysRoot = '/sys',
    private readonly kind: 'uvc' | 'v4l2' = 'uvc',
  ) {
    super();
  }

  async check(): Promise<DeviceHealth> {
    let cameras;
    try {
      const nodes = await readV4l2Nodes(this.sysRoot);
      cameras = this.kind === 'uvc' ? uvcCameras(nodes) : v4l2Cameras(nodes);
    } catch (error) {
      this.found = undefined;
      return {
        status: 'error',
        code: 'E-CAMERA-MISSING',
        detail: `can't read the video devices: ${reason(error)}`,
      };
    }
    const camera = chooseCamera(cameras, this.nameFragment);
    const before = this.found?.path;
    this.found = camera && {
      kind: 'uvc',
      name: camera.name,
      browserLabel: camera.browserLabel,
      path: camera.path,
    };
    if (camera && camera.path !== before)
      this.log.info(`Found camera name="${camera.name}" path=${camera.path}`);
    if (camera) return { status: 'ok', detail: camera.name };
    if (cameras.length === 0)
      return {
        status: 'missing',
        code: 'E-CAMERA-MISSING',
        detail: this.kind === 'uvc' ? 'no USB camera is plugged in' : 'no video capture device',
      };
    return {
      status: 'missing',
      code: 'E-CAMERA-MISSING',
      detail: `no camera named "${this.nameFragment}"; found ${cameras.map((c) => `"${c.name}"`).join(', ')}`,
    };
  }

  current(): CameraInfo | undefined {
    return this.found;
  }

  async ensureStarted(): Promise<void> {}
  async ensureStopped(): Promise<void> {}
}
