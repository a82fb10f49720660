import { z } from 'zod';

/** Device ids as the fleet server and the device config accept them. */
export const deviceIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'expected lower-case letters, digits and dashes, e.g. "jx-ruijin-01"');

export const centreIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lower-case letters, digits and dashes, e.g. "jx-ruijin"');

const fleetUrlSchema = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

/**
 * The enrolment seed, `classbox-enrol.json` on the card's FAT boot partition (contract shared with the
 * fleet server and the daemon). Unknown keys are refused so a typo never reaches a box.
 */
export const enrolmentSeedSchema = z.strictObject({
  fleetUrl: fleetUrlSchema,
  token: z.string().min(8, 'expected the enrolment token the fleet server minted').max(512),
  deviceId: deviceIdSchema,
  centreId: centreIdSchema,
  displayName: z.string().trim().min(1, 'expected the name shown in the room, e.g. "瑞金教学点"').max(64),
  expiresAt: z.iso.datetime({ offset: true, error: 'expected an ISO-8601 time, e.g. 2026-12-31T00:00:00Z' }),
});
export type EnrolmentSeed = z.output<typeof enrolmentSeedSchema>;

/** The fleet server's answer to `POST /api/v1/admin/centres/{centreId}/enrolment-tokens`. */
export const mintedTokensSchema = z.object({
  tokens: z
    .array(
      z.object({
        deviceId: deviceIdSchema,
        token: z.string().min(1),
        expiresAt: z.string().min(1),
        seed: enrolmentSeedSchema,
      }),
    )
    .min(1, 'expected at least one token'),
});
export type MintedTokens = z.output<typeof mintedTokensSchema>;
