import { z } from 'zod';
import { centreId, deviceId, enrolmentSeedSchema } from '../../common/fleet-protocol.js';

/** The seed file and ids are the fleet protocol's own schemas: one definition for server, box and flash tool. */
export { enrolmentSeedSchema, type EnrolmentSeed } from '../../common/fleet-protocol.js';
export const deviceIdSchema = deviceId;
export const centreIdSchema = centreId;

/**
 * The fleet server's answer to `POST /api/v1/admin/centres/{centreId}/enrolment-tokens`, read leniently
 * (extra fields allowed) so a newer server still works with this tool; the seeds themselves are strict.
 */
export const mintedTokensSchema = z.object({
  tokens: z
    .array(
      z.object({
        deviceId,
        token: z.string().min(1),
        expiresAt: z.string().min(1),
        seed: enrolmentSeedSchema,
      }),
    )
    .min(1, 'expected at least one token'),
});
export type MintedTokens = z.output<typeof mintedTokensSchema>;
