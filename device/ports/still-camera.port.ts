import { z } from 'zod';
import { ClassboxError } from '../../common/errors.js';

/** A still picture request; every value is a checked number or enum (node-libcamera builds a shell string). */
export const stillRequestSchema = z.strictObject({
  camera: z.int().min(0).max(7).default(0),
  width: z.int().min(64).max(4608).default(1280),
  height: z.int().min(64).max(3496).default(720),
  quality: z.int().min(1).max(100).default(85),
  /** How long the camera runs before the capture, so exposure settles (ms). */
  settleMs: z.int().min(1).max(10_000).default(1000),
  rotation: z.union([z.literal(0), z.literal(180)]).default(0),
});
export type StillRequest = z.output<typeof stillRequestSchema>;
export type StillRequestInput = z.input<typeof stillRequestSchema>;

export class StillCameraError extends ClassboxError<'E-CAMERA-STILL'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E-CAMERA-STILL', message, options);
  }
}

/** JPEG stills straight from the camera, for IT's diagnostics when the page is not streaming it. */
export abstract class StillCameraPort {
  abstract capture(request: StillRequestInput): Promise<Buffer>;
}
