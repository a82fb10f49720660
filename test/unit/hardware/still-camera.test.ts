import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LibcameraStillCamera } from '../../../device/adapters/still-camera.libcamera.js';
import { SimStillCamera } from '../../../device/adapters/still-camera.sim.js';
import { StillCameraError } from '../../../device/ports/still-camera.port.js';

/**
 * node-libcamera's real `still` runs here, through a real shell, against a stand-in
 * `libcamera-still` first on PATH that records the arguments the shell passed it.
 */
const fakeBin = join(import.meta.dirname, '../../fixtures/hardware/bin/libcamera');
const saved = {
  PATH: process.env.PATH,
  args: process.env.FAKE_STILL_ARGS,
  mode: process.env.FAKE_STILL_MODE,
};
let root: string;
let argsFile: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'classbox-still-test-'));
  argsFile = join(root, 'args.txt');
  process.env.PATH = `${fakeBin}:${saved.PATH ?? ''}`;
  process.env.FAKE_STILL_ARGS = argsFile;
  process.env.FAKE_STILL_MODE = 'jpeg';
});
afterEach(async () => {
  process.env.PATH = saved.PATH;
  restore('FAKE_STILL_ARGS', saved.args);
  restore('FAKE_STILL_MODE', saved.mode);
  await rm(root, { recursive: true, force: true });
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

async function recordedArgs(): Promise<string[]> {
  return (await readFile(argsFile, 'utf8')).trimEnd().split('\n');
}

describe('LibcameraStillCamera', () => {
  it('hands node-libcamera only numbers, fixed words and its own temporary path', async () => {
    const camera = new LibcameraStillCamera(undefined, root);
    const image = await camera.capture({ camera: 1, width: 1920, height: 1080, quality: 80, settleMs: 500 });
    expect([...image]).toEqual([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0xff, 0xd9]);
    const args = await recordedArgs();
    expect(args.slice(0, -1)).toEqual(
      ['--camera', '1', '--width', '1920', '--height', '1080', '--quality', '80', '--timeout', '500'].concat([
        '--encoding',
        'jpg',
        '--nopreview',
        '--output',
      ]),
    );
    expect(args.at(-1)).toMatch(/^\/[\w./-]+\/classbox-still-\w+\/still\.jpg$/);
  });

  it('refuses anything but validated values before node-libcamera is called', async () => {
    const camera = new LibcameraStillCamera(undefined, root);
    const bad = [
      { width: '1280; rm -rf /' },
      { width: 1280.5 },
      { height: 100_000 },
      { rotation: 90 },
      { camera: -1 },
      { quality: 0 },
      { output: '/tmp/x' },
    ];
    for (const request of bad) {
      await expect(camera.capture(request as never)).rejects.toBeInstanceOf(StillCameraError);
    }
    await expect(readFile(argsFile)).rejects.toThrow('ENOENT');
  });

  it('adds the rotation flag only for 180 degrees', async () => {
    const camera = new LibcameraStillCamera(undefined, root);
    await camera.capture({});
    expect(await recordedArgs()).not.toContain('--rotation');
    await camera.capture({ rotation: 180 });
    expect((await recordedArgs()).slice(-2)).toEqual(['--rotation', '180']);
  });

  it('fails with a clear error when libcamera-still writes nothing, and cleans up its folder', async () => {
    process.env.FAKE_STILL_MODE = 'none';
    const camera = new LibcameraStillCamera(undefined, root);
    await expect(camera.capture({})).rejects.toThrow('libcamera-still wrote no picture');
    expect(await readdir(root)).toEqual(['args.txt']);
  });

  it('reports a failing libcamera-still with its cause', async () => {
    process.env.PATH = '/nonexistent';
    const camera = new LibcameraStillCamera(undefined, root);
    const error = await camera.capture({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StillCameraError);
    expect(String((error as Error).cause)).toContain('Command failed');
  });

  it('rejects output that is not a JPEG', async () => {
    process.env.FAKE_STILL_MODE = 'text';
    const camera = new LibcameraStillCamera(undefined, root);
    await expect(camera.capture({})).rejects.toThrow('not a JPEG');
  });
});

describe('SimStillCamera', () => {
  it('returns a real JPEG picture', async () => {
    const image = await new SimStillCamera().capture({});
    expect([...image.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect([...image.subarray(-2)]).toEqual([0xff, 0xd9]);
  });
});
