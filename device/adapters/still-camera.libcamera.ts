import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { still as libcameraStill } from 'node-libcamera';
import { describeIssues } from '../../common/zod-issues.js';
import {
  StillCameraError,
  StillCameraPort,
  stillRequestSchema,
  type StillRequestInput,
} from '../ports/still-camera.port.js';

/** node-libcamera's `still`: it joins the options into one string and runs it through a shell (exec). */
export type LibcameraStill = (options: Record<string, string | number | boolean>) => Promise<string>;

/** Only characters that mean nothing to a shell may reach node-libcamera's command string. */
const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;

/**
 * Stills through node-libcamera (`libcamera-still`, a symlink to rpicam-still on current
 * Raspberry Pi OS, shipped by the image). Because the library builds a shell string, every value
 * is validated first: integers and enums only, and an output path made here from safe characters.
 */
export class LibcameraStillCamera extends StillCameraPort {
  constructor(
    private readonly still: LibcameraStill = libcameraStill as unknown as LibcameraStill,
    private readonly tempRoot = tmpdir(),
  ) {
    super();
  }

  async capture(input: StillRequestInput): Promise<Buffer> {
    const parsed = stillRequestSchema.safeParse(input);
    if (!parsed.success)
      throw new StillCameraError(`Invalid still request: ${describeIssues(parsed.error).join('; ')}`);
    const request = parsed.data;
    const dir = await mkdtemp(join(this.tempRoot, 'classbox-still-'));
    const output = join(dir, 'still.jpg');
    try {
      if (!SAFE_PATH.test(output)) throw new StillCameraError(`Unsafe temporary path for a still: ${output}`);
      // Booleans only when true: node-libcamera emits the flag for any value it is given.
      const options: Record<string, string | number | boolean> = {
        camera: request.camera,
        width: request.width,
        height: request.height,
        quality: request.quality,
        timeout: request.settleMs,
        encoding: 'jpg',
        nopreview: true,
        output,
      };
      if (request.rotation !== 0) options.rotation = request.rotation;
      try {
        await this.still(options);
      } catch (error) {
        throw new StillCameraError('libcamera-still failed', { cause: error });
      }
      let image: Buffer;
      try {
        image = await readFile(output);
      } catch (error) {
        throw new StillCameraError('libcamera-still wrote no picture', { cause: error });
      }
      if (image.length < 4 || image[0] !== 0xff || image[1] !== 0xd8) {
        throw new StillCameraError('libcamera-still wrote something that is not a JPEG');
      }
      return image;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
