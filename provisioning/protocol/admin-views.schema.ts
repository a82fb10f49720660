import { z } from 'zod';
import {
  enrolmentSeedSchema,
  roomSettingsSchema,
  timetableEntrySchema,
} from '../../common/fleet-protocol.js';
import { updateReportSchema } from '../../common/release-manifest.js';
import { deviceHealthSchema } from '../../common/device-health.js';

/**
 * Answers of the admin API, as schemas: the services' view types come from here, and the
 * dashboard takes the same types (type-only imports), so the two can't drift apart.
 */

export const healthItemSchema = deviceHealthSchema;

export const deviceVitalsViewSchema = z.object({
  uptimeSec: z.number().optional(),
  temperatureC: z.number().optional(),
  rttMs: z.number().optional(),
  board: z.string().optional(),
  uplinkKbps: z.number().optional(),
  lossPercent: z.number().optional(),
  audioOnly: z.boolean().optional(),
});

export const centreViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  region: z.string(),
  /** Secrets (pin, token, API secret) are reported as set or not, never sent back. */
  room: roomSettingsSchema.omit({ pin: true, token: true, apiSecret: true }).extend({
    pinSet: z.boolean(),
    tokenSet: z.boolean(),
    apiSecretSet: z.boolean(),
  }),
  timetable: z.array(timetableEntrySchema),
  timezone: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type CentreView = z.output<typeof centreViewSchema>;

export const deviceViewSchema = z.object({
  id: z.string(),
  centreId: z.string(),
  displayName: z.string(),
  online: z.boolean(),
  /** Last reported class state; `inClass` only while the box is online and live. */
  state: z.string().nullable(),
  inClass: z.boolean(),
  errorCode: z.string().nullable(),
  health: z.record(z.string(), healthItemSchema),
  /** Peripherals that are not ok, for the dashboard's at-a-glance column. */
  problems: z.array(z.string()),
  version: z.string().nullable(),
  lastSeenAt: z.string().nullable(),
  enrolledAt: z.string(),
  vitals: deviceVitalsViewSchema.nullable(),
  /** Release channel and the box's last update report (docs/updates.md). */
  channel: z.string(),
  update: updateReportSchema.nullable(),
});
export type DeviceView = z.output<typeof deviceViewSchema>;

export const actionViewSchema = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.string(),
  detail: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ActionView = z.output<typeof actionViewSchema>;

/** The latest log lines a box sent for a `logs` action (`GET /devices/:id/logs`). */
export const deviceLogsViewSchema = z.object({
  deviceId: z.string(),
  actionId: z.string(),
  takenAt: z.string(),
  /** JSON log lines as the box wrote them, oldest first, secrets redacted. */
  lines: z.array(z.string()),
});
export type DeviceLogsView = z.output<typeof deviceLogsViewSchema>;

export const tokenViewSchema = z.object({
  /** The first 16 hex digits of the token's hash: names it for revocation, reveals nothing. */
  id: z.string(),
  deviceId: z.string(),
  displayName: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  usedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  status: z.enum(['unused', 'used', 'expired', 'revoked']),
});
export type TokenView = z.output<typeof tokenViewSchema>;

export const mintedTokenSchema = z.object({
  deviceId: z.string(),
  token: z.string(),
  expiresAt: z.string(),
  seed: enrolmentSeedSchema,
});
export type MintedToken = z.output<typeof mintedTokenSchema>;

export const adminViewSchema = z.object({
  name: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  status: z.enum(['active', 'expired', 'revoked']),
});
export type AdminView = z.output<typeof adminViewSchema>;

export const auditViewSchema = z.object({
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string(),
  outcome: z.string(),
  client: z.string().optional(),
});
export type AuditView = z.output<typeof auditViewSchema>;

export const rolloutViewSchema = z.object({
  id: z.string(),
  version: z.string(),
  target: z.object({ kind: z.string(), id: z.string() }),
  percent: z.number(),
  /** Only an active rollout makes offers (pause, resume and abort change it). */
  state: z.enum(['active', 'paused', 'aborted']),
  createdAt: z.string(),
});
export type RolloutView = z.output<typeof rolloutViewSchema>;

export const releaseViewSchema = z.object({
  version: z.string(),
  arch: z.string(),
  size: z.number(),
  sha256: z.string(),
  keyId: z.string(),
  status: z.string(),
  createdAt: z.string(),
  rollouts: z.array(rolloutViewSchema),
});
export type ReleaseView = z.output<typeof releaseViewSchema>;

export const deviceUpdateViewSchema = z.object({
  deviceId: z.string(),
  channel: z.string(),
  runningVersion: z.string().nullable(),
  targetVersion: z.string().nullable(),
  report: updateReportSchema.nullable(),
});
export type DeviceUpdateView = z.output<typeof deviceUpdateViewSchema>;

/**
 * How far a rollout has gone, over the boxes it is aimed at: `offered` are those in its staged share;
 * of them, `downloading` report the release on its way (downloading, installing, restarting or on
 * trial), `installed` report it installed, `healthy` run it and are online, `rolledBack` failed
 * it or rolled it back. A box a more specific rollout also aims at is counted here too.
 */
export const rolloutProgressSchema = z.object({
  rollout: rolloutViewSchema,
  boxes: z.number().int(),
  offered: z.number().int(),
  downloading: z.number().int(),
  installed: z.number().int(),
  healthy: z.number().int(),
  rolledBack: z.number().int(),
});
export type RolloutProgress = z.output<typeof rolloutProgressSchema>;

/** A media node (issue 19) as the admin API shows it: its admin secret only as set or not. */
export const mediaNodeViewSchema = z.object({
  id: z.string(),
  wsUrl: z.string(),
  adminUrl: z.string(),
  adminSecretSet: z.boolean(),
  region: z.string(),
  capacity: z.number(),
  /** Where its class rooms record, a path on the node (null: not recorded). */
  recordingsDir: z.string().nullable(),
  /** unknown (not checked yet) | up | down */
  status: z.enum(['unknown', 'up', 'down']),
  /** The last check: Janus sessions, videorooms, participants in them. */
  sessions: z.number().nullable(),
  rooms: z.number().nullable(),
  participants: z.number().nullable(),
  /** Classes placed on it (as their node, not as a fallback). */
  classes: z.number(),
  error: z.string().nullable(),
  checkedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type MediaNodeView = z.output<typeof mediaNodeViewSchema>;

/** Where a class is: the node boxes and the teacher join, and the ordered fallbacks. */
export const classPlacementViewSchema = z.object({
  classId: z.string(),
  room: z.number(),
  node: z.object({ id: z.string(), wsUrl: z.string() }),
  fallbacks: z.array(z.object({ id: z.string(), wsUrl: z.string() })),
  placedAt: z.string(),
});
export type ClassPlacementView = z.output<typeof classPlacementViewSchema>;

/**
 * Where a lecture's teacher publishes (issue 19): the home node of the lecture's room and its ordered
 * fallbacks; `nodes` are all the nodes its centres are on (the fleet forwards between them).
 */
export const lecturePlacementViewSchema = z.object({
  room: z.number(),
  node: z.object({ id: z.string(), wsUrl: z.string() }),
  fallbacks: z.array(z.object({ id: z.string(), wsUrl: z.string() })),
  nodes: z.array(z.object({ id: z.string(), wsUrl: z.string() })),
});
export type LecturePlacementView = z.output<typeof lecturePlacementViewSchema>;
