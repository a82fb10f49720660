import { z } from 'zod';
import { catchupReportSchema } from './catchup-protocol.js';
import { deviceHealthSchema } from './device-health.js';
import { mediaStatusSchema } from './media-report.js';
import { updateOfferSchema, updateReportSchema } from './release-manifest.js';

/**
 * The fleet protocol: everything the fleet server and a box say to each other, and the
 * enrolment seed file written for flashing. Both sides validate with these schemas.
 */

export const DEVICE_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
export const deviceId = z
  .string()
  .regex(DEVICE_ID, 'expected lower-case letters, digits and dashes, e.g. "jx-ruijin-01"');
export const centreId = z
  .string()
  .regex(DEVICE_ID, 'expected lower-case letters, digits and dashes, e.g. "jx-ruijin"');
const displayName = z.string().trim().min(1).max(64);

/**
 * True for a plain-http URL to a host other than this machine. Enrolment tokens and device
 * requests would cross the network readable and changeable by anyone on the path, so such a
 * URL needs an explicit development flag (`allowInsecureHttp`).
 */
export function isInsecureFleetUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:') return false;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host));
}

/** The refusal of an http:// fleet URL; names the flag that allows it (`flag`: where it is set). */
export function insecureFleetUrlMessage(flag: string): string {
  return `an http:// fleet URL is allowed only to a loopback host (127.0.0.1, ::1, localhost); use https://, or for a development network set ${flag} (never in production)`;
}

/** `classbox-enrol.json` on the boot partition (a contract with the flash tool). */
export const enrolmentSeedSchema = z
  .strictObject({
    fleetUrl: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
    token: z.string().min(16).max(200),
    deviceId,
    centreId,
    displayName,
    expiresAt: z.iso.datetime({ offset: true }),
    /** Development only: accept an http:// fleet URL to a non-loopback host (see docs/security.md). */
    allowInsecureHttp: z.literal(true).optional(),
  })
  .superRefine((seed, ctx) => {
    if (seed.allowInsecureHttp !== true && isInsecureFleetUrl(seed.fleetUrl)) {
      ctx.addIssue({
        code: 'custom',
        path: ['fleetUrl'],
        message: insecureFleetUrlMessage('"allowInsecureHttp": true in the enrolment file'),
      });
    }
  });
export type EnrolmentSeed = z.output<typeof enrolmentSeedSchema>;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day "HH:MM", e.g. "09:30"');

export const timetableEntrySchema = z
  .strictObject({
    title: z.string().trim().min(1).max(100),
    /** ISO weekday: 1 = Monday … 7 = Sunday. */
    weekday: z.int().min(1, 'expected 1 (Monday) to 7 (Sunday)').max(7, 'expected 1 (Monday) to 7 (Sunday)'),
    start: hhmm,
    end: hhmm,
  })
  .refine((entry) => entry.start < entry.end, { message: 'end must be after start', path: ['end'] });
export type TimetableEntry = z.output<typeof timetableEntrySchema>;

export const timetableSchema = z.array(timetableEntrySchema).max(200);

/** Zones already found valid: building a formatter per heartbeat was a tenth of the server's time (bench). */
const knownZones = new Set<string>();

/**
 * An IANA time zone name ("Asia/Shanghai", "UTC"), as Intl knows it. The one schema for every
 * input that takes a zone (the admin API, the CLI, the desired config): a zone accepted at one
 * door and refused at another broke enrolment (issue 13). Offsets such as "+08:00" are not
 * zone names and are refused.
 */
export const timezoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(
    (tz) => {
      if (knownZones.has(tz)) return true;
      if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(tz)) return false;
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        if (knownZones.size < 1000) knownZones.add(tz);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'expected an IANA time zone, e.g. "Asia/Shanghai"' },
  );
const timezone = timezoneSchema;

/** The central Janus's WebSocket URL: one rule for the box's config file and for what the fleet sends. */
export const janusUrl = z
  .string()
  .regex(/^wss?:\/\/[^\s/]+/, 'expected a ws:// or wss:// URL, e.g. ws://janus.example.cn:8188');
export const iceServer = z.strictObject({
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

/** A centre's room settings, as IT enters them. */
export const roomSettingsSchema = z.strictObject({
  janusUrl,
  room: z.int().positive(),
  pin: z.string().min(1).max(100).optional(),
  token: z.string().min(1).max(500).optional(),
  apiSecret: z.string().min(1).max(500).optional(),
  bitrateKbps: z.int().min(64).max(8000).optional(),
  iceServers: z.array(iceServer).max(10).optional(),
});
export type RoomSettings = z.output<typeof roomSettingsSchema>;

/**
 * What the fleet wants a box to run: a partial device config (the "overlay") plus the
 * centre's timetable. The box layers it over its own config file.
 */
export const desiredConfigSchema = z.object({
  device: z
    .strictObject({
      displayName: displayName.optional(),
      centreName: displayName.optional(),
    })
    .optional(),
  janus: z
    .strictObject({
      url: janusUrl.optional(),
      room: z.int().positive().optional(),
      pin: z.string().min(1).optional(),
      token: z.string().min(1).optional(),
      apiSecret: z.string().min(1).optional(),
      bitrateKbps: z.int().min(64).max(8000).optional(),
      iceServers: z.array(iceServer).optional(),
      /**
       * Other media nodes holding the class's room, in the order to try them when `url` is gone and
       * the fleet can't be asked where the class is now (issue 19). Sent only by a fleet with media nodes.
       */
      fallbackUrls: z.array(janusUrl).max(5).optional(),
    })
    .optional(),
  session: z.object({ endHoldMs: z.int().min(500).max(10_000).optional() }).optional(),
  timetable: timetableSchema.default([]),
  timezone: timezone.default('Asia/Shanghai'),
});
export type DesiredConfig = z.output<typeof desiredConfigSchema>;

/**
 * Where a box's class is now (issue 19), `GET /api/v1/devices/{id}/placement`: a box that lost its
 * Janus asks this before it joins again, so it follows its class to the node the fleet moved it to.
 */
export const classPlacementSchema = z.object({
  url: janusUrl,
  room: z.int().positive(),
  fallbackUrls: z.array(janusUrl).max(5),
});
export type ClassPlacement = z.output<typeof classPlacementSchema>;

export const enrolRequestSchema = z.strictObject({
  token: z.string().min(16).max(200),
  /** Ed25519 public key, SPKI PEM. */
  publicKey: z.string().min(40).max(1000),
  version: z.string().max(64).optional(),
});
export type EnrolRequest = z.output<typeof enrolRequestSchema>;

export const enrolResponseSchema = z.object({
  deviceId,
  centreId,
  displayName,
  config: desiredConfigSchema,
  etag: z.string(),
});
export type EnrolResponse = z.output<typeof enrolResponseSchema>;

export const sessionStateSchema = z.enum(['idle', 'joining', 'live', 'leaving', 'reconnecting', 'error']);

export const heartbeatSchema = z.strictObject({
  state: sessionStateSchema,
  health: z
    .record(z.string().max(32), deviceHealthSchema)
    .refine((h) => Object.keys(h).length <= 16, 'at most 16 entries'),
  version: z.string().min(1).max(64),
  /** Absent when the box could not read it: an unknown uptime is not a reboot. */
  uptimeSec: z
    .number()
    .nonnegative()
    .max(10 * 365 * 24 * 3600)
    .optional(),
  temperatureC: z.number().min(-50).max(150).optional(),
  /** The board model (`/proc/device-tree/model`), absent on a PC. */
  board: z.string().max(128).optional(),
  network: z.strictObject({ rttMs: z.number().nonnegative().max(600_000).optional() }),
  errorCode: z.string().max(64).optional(),
  /** Progress or result of a software update. */
  update: updateReportSchema.optional(),
  /** The media profile and, in class, what the page measures of its media (issue 16). */
  media: mediaStatusSchema.optional(),
  /**
   * What the fleet keeps as history (per-minute aggregates, issue 18). Optional, and every field in
   * it too: an older box sends none, and a box sends only what it measured (link figures may be absent).
   */
  vitals: z
    .strictObject({
      /** The session's state when the heartbeat was sent. */
      state: sessionStateSchema.optional(),
      /** The SoC's temperature (thermal zone 0). */
      cpuTemperatureC: z.number().min(-50).max(150).optional(),
      /** What the kiosk page measured going out (kbit/s). */
      uplinkKbps: z.number().nonnegative().max(1_000_000).optional(),
      rttMs: z.number().nonnegative().max(600_000).optional(),
      /** Share of packets lost, 0–100. */
      lossPercent: z.number().min(0).max(100).optional(),
      /** Sending sound only (the uplink can't carry video, or the camera is missing). */
      audioOnly: z.boolean().optional(),
    })
    .optional(),
  /**
   * The stretches of recent classes the box missed (issue 21). This schema is strict (an unknown key is a
   * 400), so a server older than this field would refuse the whole heartbeat: a box sends it only to a
   * server whose last answer listed it in `accepts`.
   */
  catchup: catchupReportSchema.optional(),
});
export type Heartbeat = z.output<typeof heartbeatSchema>;
export type HeartbeatVitals = NonNullable<Heartbeat['vitals']>;

/** A `logs` action brings at most this many lines of at most this many characters. */
export const MAX_LOG_LINES = 500;
export const MAX_LOG_LINE = 1000;

export const ACTION_KINDS = ['restart-kiosk', 'reboot-when-idle', 'snapshot', 'screenshot', 'logs'] as const;
export const actionKindSchema = z.enum(ACTION_KINDS);
export type ActionKind = z.output<typeof actionKindSchema>;

/**
 * Server → box messages are read leniently (unknown keys dropped, unknown action kinds passed
 * through): during a rollout the fleet server is newer than most boxes, and an old box must
 * keep taking its config rather than refuse the whole answer.
 */
export const pendingActionSchema = z.object({
  id: z.string().min(1).max(64),
  kind: z.string().min(1).max(64),
});
export type PendingAction = z.output<typeof pendingActionSchema>;

export const heartbeatResponseSchema = z.object({
  actions: z.array(pendingActionSchema),
  /** The ETag of the desired config, so the box knows whether to poll it. */
  configEtag: z.string(),
  serverTime: z.iso.datetime(),
  /** The release this box should run; a malformed offer is dropped, not the whole answer. */
  update: updateOfferSchema.optional().catch(undefined),
  /**
   * The optional heartbeat fields this server takes beyond the first ones (e.g. `catchup`): the box
   * sends such a field only when listed, since an older server's strict schema refuses unknown keys.
   */
  accepts: z.array(z.string().max(32)).max(20).optional().catch(undefined),
});
export type HeartbeatResponse = z.output<typeof heartbeatResponseSchema>;

export const actionResultSchema = z.strictObject({
  ok: z.boolean(),
  detail: z.string().max(500).optional(),
  /** The camera still of a `snapshot` action, or the kiosk screen of a `screenshot` action. */
  image: z.string().startsWith('data:image/jpeg;base64,').max(2_000_000).optional(),
  /** The box's latest log lines (JSON, oldest first, secrets redacted) for a `logs` action. */
  lines: z.array(z.string().max(MAX_LOG_LINE)).max(MAX_LOG_LINES).optional(),
});
export type ActionResult = z.output<typeof actionResultSchema>;

/** Every 4xx/5xx from the fleet server. */
export const apiErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.array(z.string()).optional() }),
  serverTime: z.string().optional(),
});
export type ApiErrorBody = z.output<typeof apiErrorSchema>;

/** Headers of a signed device request. */
export const SIGNATURE_HEADERS = {
  device: 'x-classbox-device',
  timestamp: 'x-classbox-timestamp',
  nonce: 'x-classbox-nonce',
  signature: 'x-classbox-signature',
} as const;

/**
 * The bytes a device signs: method, path with query, timestamp, nonce and the SHA-256 of
 * the body (hex), one per line. The nonce makes every request unique so a replay is refused.
 */
export function canonicalRequest(parts: {
  method: string;
  path: string;
  timestamp: string;
  nonce: string;
  bodySha256Hex: string;
}): string {
  return [parts.method.toUpperCase(), parts.path, parts.timestamp, parts.nonce, parts.bodySha256Hex].join(
    '\n',
  );
}
