import { z } from 'zod';

/**
 * The history the dashboard plots (issue 18). Series are columns (one array per figure, `t` in
 * seconds since 1970), the shape uPlot draws without copying; `null` where a bucket had no figure.
 */

export const deviceHistoryQuerySchema = z.strictObject({
  /** 24 h per minute, or 7 d per hour. */
  range: z.enum(['24h', '7d']).default('24h'),
});
export type DeviceHistoryQuery = z.output<typeof deviceHistoryQuerySchema>;

const series = z.array(z.number().nullable());

export const deviceHistorySchema = z.object({
  deviceId: z.string(),
  range: z.enum(['24h', '7d']),
  bucketSec: z.number().int(),
  from: z.string(),
  t: z.array(z.number()),
  beats: z.array(z.number()),
  temperatureC: series,
  temperatureMaxC: series,
  rttMs: series,
  uplinkKbps: series,
  lossPercent: series,
  /** Share of each bucket's minutes in class, 0–1. */
  inClass: z.array(z.number()),
  audioOnly: z.array(z.number()),
  /** Class sessions on the timeline (runs of buckets with class time). */
  sessions: z.array(z.object({ start: z.string(), end: z.string() })),
});
export type DeviceHistory = z.output<typeof deviceHistorySchema>;

export const fleetHistoryQuerySchema = z.strictObject({
  days: z.coerce.number().int().min(1).max(180).default(7),
  /** Group by the centres of this region instead of by region. */
  region: z.string().trim().min(1).max(64).optional(),
});
export type FleetHistoryQuery = z.output<typeof fleetHistoryQuerySchema>;

export const fleetHistorySchema = z.object({
  days: z.number().int(),
  region: z.string().nullable(),
  /** Boxes heard from in each hour. */
  online: z.object({ t: z.array(z.number()), boxes: z.array(z.number()) }),
  /** Days in China Standard Time (UTC+8), oldest first. */
  dayLabels: z.array(z.string()),
  /** Hours of class held per day, per region (or per centre of the region). */
  classHours: z.array(z.object({ id: z.string(), name: z.string(), hours: z.array(z.number()) })),
  /** Boxes that reported a failed or rolled-back update, per day. */
  updateFailures: z.array(z.number()),
});
export type FleetHistory = z.output<typeof fleetHistorySchema>;
