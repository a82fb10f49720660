/**
 * Lesson catch-up (issue 21), the pure part of counting what was caught up: per replayed part, the
 * furthest point the screen showed; a class's minutes caught up are the sum over its parts. A part
 * played twice counts once, a part ended by a hold or a class counts what was shown of it, and no part
 * counts more than its own length.
 */

/** Per part (the cached video's name): ms shown, at most the part's length. */
export type WatchedParts = Readonly<Record<string, number>>;

export interface CaughtUp {
  /** Per class: ms of it replayed (reported to the fleet as minutes caught up). */
  readonly caughtUpMs: Readonly<Record<string, number>>;
  readonly watchedMs: WatchedParts;
}

/**
 * The page showed `part` of `classId` up to `positionMs` (a part is `partMs` long): the class gains only
 * what goes beyond what was already counted for that part. Returns `counts` itself when nothing changes.
 */
export function addWatched(
  counts: CaughtUp,
  classId: string,
  part: string,
  positionMs: number,
  partMs: number,
): CaughtUp {
  const before = counts.watchedMs[part] ?? 0;
  const shown = Math.min(Math.max(0, partMs), Math.max(0, Math.round(positionMs)));
  if (shown <= before) return counts;
  return {
    caughtUpMs: { ...counts.caughtUpMs, [classId]: (counts.caughtUpMs[classId] ?? 0) + shown - before },
    watchedMs: { ...counts.watchedMs, [part]: shown },
  };
}
