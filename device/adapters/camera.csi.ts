import { access } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { parseListCameras, type CsiCamera } from '../domain/rpicam-cameras.js';
import { chooseCamera } from '../domain/v4l2-devices.js';
import { CameraPort, type CameraInfo } from '../ports/camera.port.js';
import { ClockPort } from '../ports/clock.port.js';
import type { DeviceHealth } from '../ports/health.js';
import { ProcessPort, type ProcessSpec } from '../ports/process.port.js';
import { SupervisedProcess } from './supervised-process.js';
import { readV4l2Name } from './v4l2.sysfs.js';

export interface CsiSettings {
  /** Part of the sensor name, e.g. "imx708"; the first camera when absent. */
  readonly name?: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** The v4l2loopback device to bridge into, e.g. /dev/video10; no bridge when absent. */
  readonly loopback?: string;
}

export interface CsiCommands {
  readonly list: ProcessSpec;
  /** Programs the bridge needs besides rpicam-vid, run once to see that they are installed. */
  readonly tools?: readonly ProcessSpec[];
  bridge(camera: CsiCamera, settings: CsiSettings & { loopback: string }): ProcessSpec[];
}

const LIST_TIMEOUT_MS = 15_000;

/**
 * The programs as Raspberry Pi OS (bookworm) names them. rpicam-vid writes raw YUV420 to stdout;
 * ffmpeg feeds it to the v4l2loopback device. Every argument is a validated number or a path
 * checked by the config schema, passed as an array (no shell).
 */
export const RPICAM_COMMANDS: CsiCommands = {
  list: { label: 'rpicam-hello', command: 'rpicam-hello', args: ['--list-cameras'] },
  tools: [{ label: 'ffmpeg', command: 'ffmpeg', args: ['-hide_banner', '-version'] }],
  bridge: (camera, s) => [
    {
      label: 'rpicam-vid',
      command: 'rpicam-vid',
      args: [
        ...['--camera', String(camera.index), '--width', String(s.width), '--height', String(s.height)],
        ...['--framerate', String(s.fps), '--codec', 'yuv420', '--nopreview', '--timeout', '0', '--flush'],
        ...['--output', '-'],
      ],
    },
    {
      label: 'ffmpeg',
      command: 'ffmpeg',
      args: [
        ...['-hide_banner', '-loglevel', 'warning', '-f', 'rawvideo', '-pix_fmt', 'yuv420p'],
        ...['-video_size', `${s.width}x${s.height}`, '-framerate', String(s.fps), '-i', '-'],
        ...['-f', 'v4l2', '-pix_fmt', 'yuv420p', s.loopback],
      ],
    },
  ],
};

/**
 * A camera on the Pi's CSI connector. Chromium cannot open it directly, so when `csiLoopback`
 * is configured a supervised rpicam-vid → ffmpeg pipeline feeds a v4l2loopback device, and the
 * page picks that device by its label (the module's card_label).
 */
export class CsiCameraAdapter extends CameraPort {
  private readonly log = createLogger(CsiCameraAdapter.name);
  private found: CsiCamera | undefined;
  private label: string | undefined;
  private bridge: SupervisedProcess | undefined;
  private wanted = false;
  /** The bridge's other programs, once found, are not looked for again. */
  private toolsFound = false;

  constructor(
    private readonly processes: ProcessPort,
    private readonly clock: ClockPort,
    private readonly settings: CsiSettings,
    private readonly commands: CsiCommands = RPICAM_COMMANDS,
    private readonly sysRoot = '/sys',
  ) {
    super();
  }

  async check(): Promise<DeviceHealth> {
    // While the bridge streams, the camera is evidently there; listing again would cost a second
    // of CPU every few seconds on a Pi for nothing.
    if (this.bridge?.isRunning() && this.found) return { status: 'ok', detail: this.found.name };
    let output;
    try {
      output = await this.processes.run(this.commands.list, LIST_TIMEOUT_MS);
    } catch (error) {
      this.found = undefined;
      return {
        status: 'error',
        code: 'E-CAMERA-MISSING',
        detail: `can't list CSI cameras: ${reason(error)}`,
      };
    }
    const listing = parseListCameras(`${output.stdout}\n${output.stderr}`);
    if (!listing.ok) {
      this.found = undefined;
      return { status: 'error', code: 'E-CAMERA-MISSING', detail: listing.problem };
    }
    const camera = chooseCamera(listing.cameras, this.settings.name);
    if (camera && camera.path !== this.found?.path)
      this.log.info(`Found camera name=${camera.name} index=${camera.index}`);
    this.found = camera;
    if (!camera) {
      const detail =
        listing.cameras.length === 0
          ? 'no camera on the CSI connector'
          : `no camera named "${this.settings.name}"; found ${listing.cameras.map((c) => c.name).join(', ')}`;
      return { status: 'missing', code: 'E-CAMERA-MISSING', detail };
    }
    const missing = await this.bridgeMissing();
    if (missing.length > 0) {
      // Exactly what to install or set, for IT (issue 12): the camera is there, Chromium cannot get it.
      return {
        status: 'error',
        code: 'E-CAMERA-BRIDGE',
        detail: `${camera.name} found, but the bridge to ${this.settings.loopback} needs: ${missing.join('; ')}`,
      };
    }
    if (this.wanted) await this.startBridge(camera);
    return { status: 'ok', detail: camera.name };
  }

  current(): CameraInfo | undefined {
    if (!this.found) return undefined;
    const { loopback } = this.settings;
    return {
      kind: 'csi',
      name: this.found.name,
      browserLabel: this.label ?? this.found.name,
      csiIndex: this.found.index,
      ...(loopback ? { path: loopback } : {}),
    };
  }

  async ensureStarted(): Promise<void> {
    this.wanted = true;
    await this.check();
  }

  async ensureStopped(): Promise<void> {
    this.wanted = false;
    await this.bridge?.ensureStopped();
  }

  private async startBridge(camera: CsiCamera): Promise<void> {
    const { loopback } = this.settings;
    if (!loopback) return;
    this.label ??= await readV4l2Name(this.sysRoot, basename(loopback));
    if (!this.bridge) {
      const pipeline = this.commands.bridge(camera, { ...this.settings, loopback });
      this.bridge = new SupervisedProcess('csi-bridge', pipeline, this.processes, this.clock);
      this.log.info(
        `Bridging camera name=${camera.name} index=${camera.index} to=${loopback} label="${this.label ?? ''}"`,
      );
    }
    this.bridge.ensureStarted();
  }

  /** What the configured bridge lacks on this system: the loopback device, its module, ffmpeg. */
  private async bridgeMissing(): Promise<string[]> {
    const { loopback } = this.settings;
    if (!loopback || this.bridge?.isRunning()) return [];
    const missing: string[] = [];
    if ((await readV4l2Name(this.sysRoot, basename(loopback))) === undefined) {
      const loaded = await access(join(this.sysRoot, 'module', 'v4l2loopback')).then(
        () => true,
        () => false,
      );
      missing.push(
        loaded
          ? `${loopback}, which v4l2loopback did not create: set the line 'options v4l2loopback video_nr=${basename(loopback).replace(/\D/g, '')} card_label="Pi Camera" exclusive_caps=1' in /etc/modprobe.d/classbox-v4l2loopback.conf and reload the module`
          : `the v4l2loopback module, which is not loaded: install v4l2loopback-dkms with the kernel's headers (linux-headers-rpi-2712 on a Pi 5, linux-headers-rpi-v8 on a Pi 4), add v4l2loopback to /etc/modules-load.d/ and its options to /etc/modprobe.d/classbox-v4l2loopback.conf (docs/hardware.md)`,
      );
    }
    if (!this.toolsFound) {
      const absent: string[] = [];
      for (const tool of this.commands.tools ?? []) {
        const ran = await this.processes.run(tool, LIST_TIMEOUT_MS).then(
          (r) => r.code === 0,
          () => false,
        );
        if (!ran)
          absent.push(
            `${tool.label}, which is not installed or does not run (apt-get install ${tool.label})`,
          );
      }
      this.toolsFound = absent.length === 0;
      missing.push(...absent);
    }
    return missing;
  }

  /** For tests and diagnostics: the bridge's process ids while it runs. */
  bridgePids(): readonly number[] {
    return this.bridge?.pids() ?? [];
  }
}
