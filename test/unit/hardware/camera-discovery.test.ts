import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UvcCameraAdapter } from '../../../device/adapters/camera.uvc.js';
import { readV4l2Nodes } from '../../../device/adapters/v4l2.sysfs.js';
import { parseListCameras } from '../../../device/domain/rpicam-cameras.js';
import { chooseCamera, uvcCameras } from '../../../device/domain/v4l2-devices.js';

const fixtures = join(import.meta.dirname, '../../fixtures/hardware');
const sysfs = (tree: string): string => join(fixtures, 'sysfs-v4l2', tree);
const listing = (name: string): string => readFileSync(join(fixtures, 'rpicam', name), 'utf8');

describe('USB cameras from /sys/class/video4linux', () => {
  it('finds the C920 capture node on a Pi 4 and skips its metadata node and the Pi codec/ISP nodes', async () => {
    const cameras = uvcCameras(await readV4l2Nodes(sysfs('pi4-c920')));
    expect(cameras).toEqual([
      {
        path: '/dev/video0',
        name: 'HD Pro Webcam C920',
        usbId: '046d:082d',
        browserLabel: 'HD Pro Webcam C920 (046d:082d)',
      },
    ]);
  });

  it('lists two USB cameras on a Pi 5 in node order, ignoring rp1-cfe and pispbe', async () => {
    const cameras = uvcCameras(await readV4l2Nodes(sysfs('pi5-two-usb-cameras')));
    expect(cameras.map((c) => [c.path, c.browserLabel])).toEqual([
      ['/dev/video30', 'USB 2.0 Camera: USB Camera (1bcf:2c99)'],
      ['/dev/video32', 'C270 HD WEBCAM (046d:0825)'],
    ]);
  });

  it('picks the configured camera by a case-insensitive part of its name, else the first', async () => {
    const cameras = uvcCameras(await readV4l2Nodes(sysfs('pi5-two-usb-cameras')));
    expect(chooseCamera(cameras, 'c270')?.path).toBe('/dev/video32');
    expect(chooseCamera(cameras)?.path).toBe('/dev/video30');
    expect(chooseCamera(cameras, 'C920')).toBeUndefined();
  });

  it('reports the camera the adapter found, with the label the page must pick', async () => {
    const adapter = new UvcCameraAdapter('C270', sysfs('pi5-two-usb-cameras'));
    expect(await adapter.check()).toEqual({ status: 'ok', detail: 'C270 HD WEBCAM' });
    expect(adapter.current()).toEqual({
      kind: 'uvc',
      name: 'C270 HD WEBCAM',
      browserLabel: 'C270 HD WEBCAM (046d:0825)',
      path: '/dev/video32',
    });
  });

  it('says no USB camera is plugged in when the Pi has only its own video nodes', async () => {
    const adapter = new UvcCameraAdapter(undefined, sysfs('pi4-no-camera'));
    expect(await adapter.check()).toEqual({
      status: 'missing',
      code: 'E-CAMERA-MISSING',
      detail: 'no USB camera is plugged in',
    });
    expect(adapter.current()).toBeUndefined();
  });

  it('names the cameras it did find when the configured one is absent', async () => {
    const adapter = new UvcCameraAdapter('C920', sysfs('pi5-two-usb-cameras'));
    expect(await adapter.check()).toMatchObject({
      status: 'missing',
      detail: 'no camera named "C920"; found "USB 2.0 Camera: USB Camera", "C270 HD WEBCAM"',
    });
  });

  it('treats a machine without video4linux as having no camera', async () => {
    const adapter = new UvcCameraAdapter(undefined, sysfs('no-such-tree'));
    expect(await adapter.check()).toMatchObject({ status: 'missing', code: 'E-CAMERA-MISSING' });
  });
  it("with kind v4l2, takes a capture device of any driver (vivid in the VM) but never the Pi's own nodes", async () => {
    const vivid = new UvcCameraAdapter(undefined, sysfs('vm-vivid'), 'v4l2');
    expect(await vivid.check()).toEqual({ status: 'ok', detail: 'vivid-000-vid-cap' });
    expect(vivid.current()?.path).toBe('/dev/video0');
    // The same tree for a UVC box: vivid is not a USB camera.
    expect(await new UvcCameraAdapter(undefined, sysfs('vm-vivid')).check()).toMatchObject({
      status: 'missing',
      detail: 'no USB camera is plugged in',
    });
    expect(await new UvcCameraAdapter(undefined, sysfs('pi4-no-camera'), 'v4l2').check()).toEqual({
      status: 'missing',
      code: 'E-CAMERA-MISSING',
      detail: 'no video capture device',
    });
  });
});

describe('rpicam-hello --list-cameras', () => {
  it('parses a Pi 5 with Camera Module 3 (wide), with its modes', () => {
    const result = parseListCameras(listing('list-cameras-pi5-camera-module-3.txt'));
    expect(result).toEqual({
      ok: true,
      cameras: [
        {
          index: 0,
          name: 'imx708_wide',
          width: 4608,
          height: 2592,
          path: '/base/axi/pcie@120000/rp1/i2c@88000/imx708@1a',
          modes: [
            { format: 'SRGGB10_CSI2P', width: 1536, height: 864, fps: 120.13 },
            { format: 'SRGGB10_CSI2P', width: 2304, height: 1296, fps: 56.03 },
            { format: 'SRGGB10_CSI2P', width: 4608, height: 2592, fps: 14.35 },
          ],
        },
      ],
    });
  });

  it('parses two cameras and carries each mode format down to its continuation lines', () => {
    const result = parseListCameras(listing('list-cameras-pi4-two-cameras.txt'));
    if (!result.ok) throw new Error(result.problem);
    expect(result.cameras.map((c) => [c.index, c.name, c.modes.length])).toEqual([
      [0, 'imx219', 8],
      [1, 'imx477', 4],
    ]);
    expect(result.cameras[0]!.modes[5]).toEqual({ format: 'SRGGB8', width: 1640, height: 1232, fps: 83.7 });
    expect(result.cameras[1]!.modes.map((m) => m.format)).toEqual([
      'SRGGB10_CSI2P',
      'SRGGB12_CSI2P',
      'SRGGB12_CSI2P',
      'SRGGB12_CSI2P',
    ]);
    expect(chooseCamera(result.cameras, 'imx477')?.index).toBe(1);
  });

  it('reads "No cameras available!" as an empty list, not an error', () => {
    expect(parseListCameras(listing('list-cameras-none.txt'))).toEqual({ ok: true, cameras: [] });
  });

  it('reports output it does not understand with its first line', () => {
    const result = parseListCameras(listing('list-cameras-error.txt'));
    expect(result).toEqual({
      ok: false,
      problem: expect.stringContaining('unexpected rpicam-hello output: [0:01:02.531118622]'),
    });
  });
});
