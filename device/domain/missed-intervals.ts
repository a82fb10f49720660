/**
 * Lesson catch-up (issue 21), the pure part: which stretches of a class the box did not receive the
 * teacher in, from the session's own states. No time source and no I/O: every event carries its wall
 * clock time (ms since the epoch, the clock the media node's recording is stamped with), and the
 * service persists what this returns.
 */

/**
 * Why a stretch was missed: the box was reconnecting (link or Janus lost), the teacher's picture stopped
 * arriving while the session still counted as live (a link cut is noticed seconds later; sound only), or
 * the box joined after the class began.
 */
export type MissReason = 'reconnecting' | 'stalled' | 'joinedLate';

export interface MissedInterval {
  readonly fromMs: number;
  readonly toMs: number;
  readonly reason: MissReason;
}

export interface ClassMisses {
  /** `<room>@<ISO time the box joined>`: unique per box, stable across restarts. */
  readonly classId: string;
  readonly room: number;
  readonly joinedAtMs: number;
  /** Absent while the class runs. */
  readonly endedAtMs?: number;
  readonly missed: readonly MissedInterval[];
  /** The start of a stretch still being missed (the box is reconnecting now), and why. */
  readonly openSinceMs?: number;
  readonly openReason?: MissReason;
}

export interface MissedLog {
  /** The class the box is in now. */
  readonly current?: ClassMisses;
  /** Ended classes with something missed, oldest first, at most {@link KEEP_CLASSES}. */
  readonly ended: readonly ClassMisses[];
}

export type MissEvent =
  /** The box is live in `room`; `scheduledStartMs`: the timetable's start of the class under way. */
  | { type: 'joined'; atMs: number; room: number; scheduledStartMs?: number }
  /** The teacher stopped reaching the box at `atMs` (the last moment its picture was seen). */
  | { type: 'lost'; atMs: number; reason: 'reconnecting' | 'stalled' }
  /** The teacher reaches the box again (its picture is decoded again). */
  | { type: 'restored'; atMs: number }
  /** The box left the class (or the daemon stopped in one). */
  | { type: 'left'; atMs: number };

export const EMPTY_LOG: MissedLog = { ended: [] };

/** Ended classes remembered: a week of daily classes, more than a bounded cache holds the video of. */
export const KEEP_CLASSES = 10;
/** A stretch shorter than this is a blip the tutor did not miss anything in: not worth a replay. */
export const MIN_MISS_MS = 2000;
/** Two stretches closer than this are one replay: a cut of a few seconds between them helps no one. */
export const MERGE_GAP_MS = 3000;
/** Joined late by more than a class lasts (a timetable entry from another day): not a late join. */
const MAX_LATE_MS = 4 * 3600_000;

export function classIdOf(room: number, joinedAtMs: number): string {
  return `${room}@${new Date(joinedAtMs).toISOString()}`;
}

export function applyMiss(log: MissedLog, event: MissEvent): MissedLog {
  switch (event.type) {
    case 'joined': {
      // A join while in a class (a lost 'left' after a crash) ends that class first.
      const base = log.current ? applyMiss(log, { type: 'left', atMs: event.atMs }) : log;
      const late = event.scheduledStartMs;
      const missed: MissedInterval[] =
        late !== undefined && event.atMs - late >= MIN_MISS_MS && event.atMs - late <= MAX_LATE_MS
          ? [{ fromMs: late, toMs: event.atMs, reason: 'joinedLate' }]
          : [];
      return {
        ...base,
        current: {
          classId: classIdOf(event.room, event.atMs),
          room: event.room,
          joinedAtMs: event.atMs,
          missed,
        },
      };
    }
    case 'lost': {
      const current = log.current;
      if (!current || current.openSinceMs !== undefined) return log;
      // Never before the class began for this box (a stale "last seen" from before the join).
      const atMs = Math.max(event.atMs, current.joinedAtMs);
      return { ...log, current: { ...current, openSinceMs: atMs, openReason: event.reason } };
    }
    case 'restored': {
      const current = log.current;
      if (!current || current.openSinceMs === undefined) return log;
      return { ...log, current: closeOpen(current, event.atMs) };
    }
    case 'left': {
      const current = log.current;
      if (!current) return log;
      const ended = { ...closeOpen(current, event.atMs), endedAtMs: event.atMs };
      if (ended.missed.length === 0) return { ended: log.ended };
      return { ended: [...log.ended, ended].slice(-KEEP_CLASSES) };
    }
  }
}

function closeOpen(current: ClassMisses, atMs: number): ClassMisses {
  const { openSinceMs, openReason, ...rest } = current;
  if (openSinceMs === undefined) return current;
  if (atMs - openSinceMs < MIN_MISS_MS) return rest;
  const reason = openReason ?? 'reconnecting';
  return { ...rest, missed: merge([...rest.missed, { fromMs: openSinceMs, toMs: atMs, reason }]) };
}

/** Sorted, with stretches that overlap or nearly touch made one (the earlier one's reason kept). */
export function merge(intervals: readonly MissedInterval[]): MissedInterval[] {
  const sorted = [...intervals].sort((a, b) => a.fromMs - b.fromMs);
  const out: MissedInterval[] = [];
  for (const next of sorted) {
    const last = out.at(-1);
    if (last && next.fromMs - last.toMs <= MERGE_GAP_MS) {
      out[out.length - 1] = { ...last, toMs: Math.max(last.toMs, next.toMs) };
    } else {
      out.push(next);
    }
  }
  return out;
}

/** Total missed time of a class, in ms. */
export function missedMs(misses: ClassMisses): number {
  return misses.missed.reduce((sum, m) => sum + (m.toMs - m.fromMs), 0);
}
