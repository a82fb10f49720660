import { z } from 'zod';
import { centreId, deviceId } from '../../common/fleet-protocol.js';
import { releaseSignatureSchema } from '../../common/release-manifest.js';

/** Bodies of the admin release API. */

export const channelName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'expected a channel name such as "pilot" or "stable"');

export const createReleaseSchema = z.strictObject({
  /** The manifest file's exact text; the signature covers these bytes. */
  manifest: z.string().min(2).max(20_000),
  signature: releaseSignatureSchema,
});
export type CreateRelease = z.output<typeof createReleaseSchema>;

export const createRolloutSchema = z
  .strictObject({
    channel: channelName.optional(),
    centre: centreId.optional(),
    device: deviceId.optional(),
    /** Staged rollout: this share of the target's boxes first, then raise it to 100. */
    percent: z.int().min(1).max(100).default(100),
    /** Roll out a version older than one already rolled out to the same target (a deliberate rollback). */
    force: z.boolean().default(false),
  })
  .refine((r) => [r.channel, r.centre, r.device].filter((t) => t !== undefined).length === 1, {
    message: 'name exactly one target: channel, centre or device',
  });
export type CreateRollout = z.output<typeof createRolloutSchema>;

export const setChannelSchema = z.strictObject({ channel: channelName });
