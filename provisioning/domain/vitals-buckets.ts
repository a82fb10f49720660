/**
 * History of the boxes' vitals, as per-minute aggregates (issue 18): what one heartbeat adds to its
 * device's minute, and how a batch of heartbeats folds into one row per device and minute, so a
 * batch is one upsert per row however many heartbeats it holds. Pure: no time, no I/O.
 */

/** What one heartbeat tells the history. */
export interface VitalsBeat {
  deviceId: string;
  /** Kept with each bucket so the fleet-wide plots group by centre without a join over the history. */
  centreId: string;
  /** Server time, ISO-8601: the minute it falls in is its bucket (the box's clock may be off). */
  seenAt: string;
  live: boolean;
  audioOnly: boolean;
  updateFailed: boolean;
  temperatureC?: number | undefined;
  rttMs?: number | undefined;
  uplinkKbps?: number | undefined;
  lossPercent?: number | undefined;
}

/** One row of `device_vitals_minute` or `device_vitals_hour` (migration 0007), or its increment. */
export interface VitalsBucket {
  deviceId: string;
  centreId: string;
  /** Start of the minute (or hour), ISO-8601 UTC: sorts as text, like every time in the database. */
  at: string;
  /** Minutes with at least one heartbeat (1 in a minute row). */
  minutes: number;
  beats: number;
  /** Minutes with a heartbeat while in class (live or reconnecting). */
  liveMinutes: number;
  audioOnlyMinutes: number;
  updateFailedMinutes: number;
  tempSum: number;
  tempMax: number | null;
  tempN: number;
  rttSum: number;
  rttN: number;
  uplinkSum: number;
  uplinkN: number;
  lossSum: number;
  lossN: number;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

/** The start of the minute an ISO time falls in, as ISO. */
export function minuteOf(iso: string): string {
  const ms = Date.parse(iso);
  return new Date(ms - (ms % MINUTE_MS)).toISOString();
}

export function hourOf(iso: string): string {
  const ms = Date.parse(iso);
  return new Date(ms - (ms % HOUR_MS)).toISOString();
}

function add(sum: number, n: number, value: number | undefined): [number, number] {
  return value === undefined || !Number.isFinite(value) ? [sum, n] : [sum + value, n + 1];
}

/**
 * Heartbeats folded as they come into one increment per device and minute, held until taken. The
 * server keeps one, so a minute of a box costs one upsert however many heartbeats it held (issue 17:
 * the history's write was a tenth of the heartbeats' throughput when every batch upserted its beats).
 */
export class VitalsAccumulator {
  private readonly buckets = new Map<string, VitalsBucket>();

  /** Increments held (device × minute). */
  get size(): number {
    return this.buckets.size;
  }

  add(beat: VitalsBeat): void {
    const at = minuteOf(beat.seenAt);
    const key = `${beat.deviceId}\n${at}`;
    let b = this.buckets.get(key);
    if (!b) {
      b = {
        deviceId: beat.deviceId,
        centreId: beat.centreId,
        at,
        minutes: 1,
        beats: 0,
        liveMinutes: 0,
        audioOnlyMinutes: 0,
        updateFailedMinutes: 0,
        tempSum: 0,
        tempMax: null,
        tempN: 0,
        rttSum: 0,
        rttN: 0,
        uplinkSum: 0,
        uplinkN: 0,
        lossSum: 0,
        lossN: 0,
      };
      this.buckets.set(key, b);
    }
    b.beats++;
    if (beat.live) b.liveMinutes = 1;
    if (beat.audioOnly) b.audioOnlyMinutes = 1;
    if (beat.updateFailed) b.updateFailedMinutes = 1;
    [b.tempSum, b.tempN] = add(b.tempSum, b.tempN, beat.temperatureC);
    if (beat.temperatureC !== undefined && (b.tempMax === null || beat.temperatureC > b.tempMax))
      b.tempMax = beat.temperatureC;
    [b.rttSum, b.rttN] = add(b.rttSum, b.rttN, beat.rttMs);
    [b.uplinkSum, b.uplinkN] = add(b.uplinkSum, b.uplinkN, beat.uplinkKbps);
    [b.lossSum, b.lossN] = add(b.lossSum, b.lossN, beat.lossPercent);
  }

  /**
   * Removes and returns the increments of the minutes that start before `before` (ISO; all of them
   * when left out), sorted by (device, minute): the order replicas take row locks in, so two writes
   * can't deadlock on PostgreSQL.
   */
  take(before?: string): VitalsBucket[] {
    const taken: VitalsBucket[] = [];
    for (const [key, b] of this.buckets) {
      if (before !== undefined && b.at >= before) continue;
      taken.push(b);
      this.buckets.delete(key);
    }
    return taken.sort((a, b) =>
      a.deviceId === b.deviceId ? (a.at < b.at ? -1 : 1) : a.deviceId < b.deviceId ? -1 : 1,
    );
  }
}

/** A batch of heartbeats as one increment per device and minute, sorted for lock order. */
export function foldBeats(beats: readonly VitalsBeat[]): VitalsBucket[] {
  const folded = new VitalsAccumulator();
  for (const beat of beats) folded.add(beat);
  return folded.take();
}

/** Class sessions on a timeline: runs of consecutive buckets with class time, as [start, end). */
export function sessionsOf(
  buckets: readonly { at: string; liveMinutes: number }[],
  bucketMs: number,
): { start: string; end: string }[] {
  const sessions: { start: string; end: string }[] = [];
  let open: { start: number; end: number } | undefined;
  for (const b of buckets) {
    const at = Date.parse(b.at);
    if (b.liveMinutes <= 0) continue;
    if (open && at === open.end) open.end = at + bucketMs;
    else {
      if (open)
        sessions.push({ start: new Date(open.start).toISOString(), end: new Date(open.end).toISOString() });
      open = { start: at, end: at + bucketMs };
    }
  }
  if (open)
    sessions.push({ start: new Date(open.start).toISOString(), end: new Date(open.end).toISOString() });
  return sessions;
}
