import type { VitalsBucket } from '../domain/vitals-buckets.js';

/**
 * The write of the history on the heartbeat hot path: a batch's increments (one per device and
 * minute, from `foldBeats`) added to `device_vitals_minute` in one statement or transaction, as
 * part of the heartbeats' group commit. Prepared once, on the driver under Kysely, like the hot path.
 */
export abstract class VitalsHistoryWriter {
  abstract addMinutes(buckets: readonly VitalsBucket[]): Promise<void>;
}

/**
 * The upsert's SET list, the same on both databases: sums and counts add up, a minute holds class
 * time (audio-only, a failed update) if any of its heartbeats did, the maximum stays the maximum.
 * `t` names the stored row (SQLite: the bare table name, PostgreSQL: the same).
 */
export function addMinuteSet(t: string): string {
  return `beats = ${t}.beats + excluded.beats,
  live_minutes = CASE WHEN excluded.live_minutes > ${t}.live_minutes THEN excluded.live_minutes ELSE ${t}.live_minutes END,
  audio_only_minutes = CASE WHEN excluded.audio_only_minutes > ${t}.audio_only_minutes THEN excluded.audio_only_minutes ELSE ${t}.audio_only_minutes END,
  update_failed_minutes = CASE WHEN excluded.update_failed_minutes > ${t}.update_failed_minutes THEN excluded.update_failed_minutes ELSE ${t}.update_failed_minutes END,
  temp_sum = ${t}.temp_sum + excluded.temp_sum,
  temp_max = CASE WHEN excluded.temp_max IS NULL THEN ${t}.temp_max
                  WHEN ${t}.temp_max IS NULL OR excluded.temp_max > ${t}.temp_max THEN excluded.temp_max
                  ELSE ${t}.temp_max END,
  temp_n = ${t}.temp_n + excluded.temp_n,
  rtt_sum = ${t}.rtt_sum + excluded.rtt_sum, rtt_n = ${t}.rtt_n + excluded.rtt_n,
  uplink_sum = ${t}.uplink_sum + excluded.uplink_sum, uplink_n = ${t}.uplink_n + excluded.uplink_n,
  loss_sum = ${t}.loss_sum + excluded.loss_sum, loss_n = ${t}.loss_n + excluded.loss_n`;
}

export const VITALS_COLUMNS = [
  'device_id',
  'centre_id',
  'at',
  'minutes',
  'beats',
  'live_minutes',
  'audio_only_minutes',
  'update_failed_minutes',
  'temp_sum',
  'temp_max',
  'temp_n',
  'rtt_sum',
  'rtt_n',
  'uplink_sum',
  'uplink_n',
  'loss_sum',
  'loss_n',
] as const;

/** A bucket's values in `VITALS_COLUMNS` order. */
export function bucketValues(b: VitalsBucket): (string | number | null)[] {
  return [
    b.deviceId,
    b.centreId,
    b.at,
    b.minutes,
    b.beats,
    b.liveMinutes,
    b.audioOnlyMinutes,
    b.updateFailedMinutes,
    b.tempSum,
    b.tempMax,
    b.tempN,
    b.rttSum,
    b.rttN,
    b.uplinkSum,
    b.uplinkN,
    b.lossSum,
    b.lossN,
  ];
}
