import { z } from 'zod';
import {
  actionKindSchema,
  centreId,
  deviceId,
  janusUrl,
  roomSettingsSchema,
  timetableSchema,
  timezoneSchema,
} from '../../common/fleet-protocol.js';

/** Bodies of the admin API (bearer credential); the batch flash tool relies on the token one. */

const name = z.string().trim().min(1).max(64);
const timezone = timezoneSchema;

export const createCentreSchema = z.strictObject({
  id: centreId,
  name,
  region: z.string().trim().min(1).max(64),
  room: roomSettingsSchema,
  timetable: timetableSchema.default([]),
  timezone: timezone.default('Asia/Shanghai'),
});
export type CreateCentre = z.output<typeof createCentreSchema>;

export const patchCentreSchema = z
  .strictObject({
    name: name.optional(),
    region: z.string().trim().min(1).max(64).optional(),
    room: roomSettingsSchema.optional(),
    timetable: timetableSchema.optional(),
    timezone: timezone.optional(),
  })
  .refine(
    (p) => Object.keys(p).length > 0,
    'expected at least one of name, region, room, timetable, timezone',
  );
export type PatchCentre = z.output<typeof patchCentreSchema>;

export const mintTokensSchema = z
  .strictObject({
    count: z.int().min(1).max(500),
    expiresInSeconds: z
      .int()
      .min(60)
      .max(90 * 24 * 3600),
    deviceIds: z.array(deviceId).max(500).optional(),
    displayNames: z.array(name).max(500).optional(),
    /** Mint for ids that are enrolled already: re-enrolling re-flashed boxes (their key is replaced). */
    reenrol: z.boolean().default(false),
  })
  .superRefine((body, ctx) => {
    if (body.deviceIds && body.deviceIds.length !== body.count) {
      ctx.addIssue({
        code: 'custom',
        path: ['deviceIds'],
        message: `expected ${body.count} ids (one per token)`,
      });
    }
    if (body.deviceIds && new Set(body.deviceIds).size !== body.deviceIds.length) {
      ctx.addIssue({ code: 'custom', path: ['deviceIds'], message: 'expected distinct ids' });
    }
    if (body.displayNames && body.displayNames.length !== body.count) {
      ctx.addIssue({
        code: 'custom',
        path: ['displayNames'],
        message: `expected ${body.count} names (one per token)`,
      });
    }
  });
export type MintTokens = z.output<typeof mintTokensSchema>;

export const createAdminSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a name such as "it" or "flash-tool"'),
  /** Valid for this long; absent: until revoked. */
  expiresInSeconds: z
    .int()
    .min(60)
    .max(5 * 365 * 24 * 3600)
    .optional(),
});

export const patchDeviceSchema = z.strictObject({ displayName: name });
export const createActionSchema = z.strictObject({ kind: actionKindSchema });
export const idParam = deviceId;

/** A media node (issue 19): a Janus server the fleet places classes on. */
const mediaNodeFields = {
  wsUrl: janusUrl,
  /** Janus's admin API over HTTP (`janus.transport.http`'s admin endpoint), e.g. http://10.0.0.5:7088/admin. */
  adminUrl: z.url({
    protocol: /^https?$/,
    error: 'expected an http:// or https:// URL, e.g. http://10.0.0.5:7088/admin',
  }),
  /** The admin API's secret (`admin_secret` in janus.jcfg); write-only. */
  adminSecret: z.string().min(1).max(500),
  region: z.string().trim().min(1).max(64),
  /** How many classes (videorooms) it may carry; see docs/scaling.md. */
  capacity: z.int().min(1).max(100_000),
  /**
   * Where the node's Janus writes the teacher's recordings, a path on the node (issue 21, catch-up):
   * its class rooms record into `<recordingsDir>/room-<room>`. Absent or null: not recorded.
   */
  recordingsDir: z
    .string()
    .max(500)
    .regex(/^\/[^\0"]*$/, 'expected an absolute folder on the node, e.g. /var/lib/janus/recordings')
    .nullable(),
};
export const createMediaNodeSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'expected lower-case letters, digits and dashes, e.g. "bj-1"'),
  ...mediaNodeFields,
  adminSecret: mediaNodeFields.adminSecret.optional(),
  recordingsDir: mediaNodeFields.recordingsDir.optional(),
});
export type CreateMediaNode = z.output<typeof createMediaNodeSchema>;
export const patchMediaNodeSchema = z
  .strictObject({
    wsUrl: mediaNodeFields.wsUrl.optional(),
    adminUrl: mediaNodeFields.adminUrl.optional(),
    adminSecret: mediaNodeFields.adminSecret.optional(),
    region: mediaNodeFields.region.optional(),
    capacity: mediaNodeFields.capacity.optional(),
    recordingsDir: mediaNodeFields.recordingsDir.optional(),
  })
  .refine(
    (p) => Object.keys(p).length > 0,
    'expected at least one of wsUrl, adminUrl, adminSecret, region, capacity, recordingsDir',
  );
export type PatchMediaNode = z.output<typeof patchMediaNodeSchema>;
