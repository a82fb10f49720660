import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CsiCameraAdapter, RPICAM_COMMANDS, type CsiCommands } from '../../../device/adapters/camera.csi.js';
import { SystemClock } from '../../../device/adapters/clock.system.js';
import { NodeProcesses } from '../../../device/adapters/process.node.js';

const fixtures = join(import.meta.dirname, '../../fixtures/hardware');
const bin = join(fixtures, 'bin');
const settings = { width: 1280, height: 720, fps: 30, loopback: '/dev/video10' };

/** rpicam-hello replaced by `cat` of a recorded listing; rpicam-vid and ffmpeg by the fake scripts. */
function commands(listing: string): CsiCommands {
  return {
    list: { label: 'rpicam-hello', command: 'cat', args: [join(fixtures, 'rpicam', listing)] },
    bridge: (camera, s) => [
      {
        label: 'rpicam-vid',
        command: process.execPath,
        args: [join(bin, 'fake-rpicam-vid.mjs'), '--camera', String(camera.index)],
      },
      { label: 'ffmpeg', command: process.execPath, args: [join(bin, 'fake-ffmpeg.mjs'), s.loopback] },
    ],
  };
}

const adapters: CsiCameraAdapter[] = [];
function make(listing: string, extra: Partial<typeof settings> & { name?: string } = {}): CsiCameraAdapter {
  const adapter = new CsiCameraAdapter(
    new NodeProcesses(),
    new SystemClock(),
    { ...settings, ...extra },
    commands(listing),
    join(fixtures, 'sysfs-v4l2', 'pi5-csi-loopback'),
  );
  adapters.push(adapter);
  return adapter;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterEach(async () => {
  for (const adapter of adapters.splice(0)) await adapter.ensureStopped();
});

describe('CsiCameraAdapter', () => {
  it('finds the Camera Module 3 and bridges it into the loopback device under its card label', async () => {
    const camera = make('list-cameras-pi5-camera-module-3.txt');
    await camera.ensureStarted();
    expect(camera.current()).toEqual({
      kind: 'csi',
      name: 'imx708_wide',
      browserLabel: 'Pi Camera',
      path: '/dev/video10',
      csiIndex: 0,
    });
    expect(camera.bridgePids()).toHaveLength(2);
    expect(await camera.check()).toEqual({ status: 'ok', detail: 'imx708_wide' });
  });

  it('stops the bridge with the camera, leaving no process behind', async () => {
    const camera = make('list-cameras-pi5-camera-module-3.txt');
    await camera.ensureStarted();
    const pids = camera.bridgePids();
    await camera.ensureStopped();
    expect(pids.filter(alive)).toEqual([]);
  });

  it('reports a missing camera and starts no bridge when rpicam-hello finds none', async () => {
    const camera = make('list-cameras-none.txt');
    await camera.ensureStarted();
    expect(await camera.check()).toEqual({
      status: 'missing',
      code: 'E-CAMERA-MISSING',
      detail: 'no camera on the CSI connector',
    });
    expect(camera.bridgePids()).toEqual([]);
    expect(camera.current()).toBeUndefined();
  });

  it('chooses the configured sensor among two', async () => {
    const camera = make('list-cameras-pi4-two-cameras.txt', { name: 'imx477', loopback: undefined });
    expect(await camera.check()).toEqual({ status: 'ok', detail: 'imx477' });
    expect(camera.current()).toEqual({ kind: 'csi', name: 'imx477', browserLabel: 'imx477', csiIndex: 1 });
  });

  it('says exactly what the bridge lacks: the loopback module or device, ffmpeg; and starts nothing', async () => {
    const noLoopback = new CsiCameraAdapter(
      new NodeProcesses(),
      new SystemClock(),
      settings,
      {
        ...commands('list-cameras-pi5-camera-module-3.txt'),
        tools: [{ label: 'ffmpeg', command: '/nonexistent/ffmpeg', args: ['-version'] }],
      },
      // A system without v4l2loopback: no video4linux nodes, no module.
      join(fixtures, 'sysfs-v4l2', 'not-there'),
    );
    adapters.push(noLoopback);
    await noLoopback.ensureStarted();
    const health = await noLoopback.check();
    expect(health).toMatchObject({ status: 'error', code: 'E-CAMERA-BRIDGE' });
    expect(health.detail).toMatch(
      /^imx708_wide found, but the bridge to \/dev\/video10 needs: the v4l2loopback module, which is not loaded: install v4l2loopback-dkms/,
    );
    expect(health.detail).toContain(
      '; ffmpeg, which is not installed or does not run (apt-get install ffmpeg)',
    );
    expect(noLoopback.bridgePids()).toEqual([]);

    const withFfmpeg = make('list-cameras-pi5-camera-module-3.txt');
    expect(await withFfmpeg.check()).toEqual({ status: 'ok', detail: 'imx708_wide' });
  });

  it('reports an error, not a crash, when rpicam-hello is not installed', async () => {
    const camera = new CsiCameraAdapter(new NodeProcesses(), new SystemClock(), settings, {
      ...RPICAM_COMMANDS,
      list: { label: 'rpicam-hello', command: '/nonexistent/rpicam-hello', args: ['--list-cameras'] },
    });
    expect(await camera.check()).toMatchObject({
      status: 'error',
      code: 'E-CAMERA-MISSING',
      detail: expect.stringContaining("can't list CSI cameras: rpicam-hello could not be started"),
    });
  });

  it('builds the real bridge from numbers and the checked device path only', () => {
    const [vid, ffmpeg] = RPICAM_COMMANDS.bridge(
      { index: 1, name: 'imx708', width: 4608, height: 2592, path: '/base/x', modes: [] },
      settings,
    );
    expect(vid).toEqual({
      label: 'rpicam-vid',
      command: 'rpicam-vid',
      args: [
        '--camera',
        '1',
        '--width',
        '1280',
        '--height',
        '720',
        '--framerate',
        '30',
        '--codec',
        'yuv420',
        '--nopreview',
        '--timeout',
        '0',
        '--flush',
        '--output',
        '-',
      ],
    });
    expect(ffmpeg!.args.slice(-1)).toEqual(['/dev/video10']);
    expect(ffmpeg!.args).toContain('1280x720');
  });
});
