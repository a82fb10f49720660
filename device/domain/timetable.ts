import type { TimetableEntry } from '../../common/fleet-protocol.js';

export interface NextClass {
  readonly title: string;
  /** ISO-8601 UTC instant the class starts (in the past while it is under way). */
  readonly startsAt: string;
  /** When it ends, and the screen should move on to the class after. */
  readonly endsAt: string;
}

const DAY_MS = 86_400_000;

/** Offset of `timeZone` from UTC at `atMs`, in ms (Asia/Shanghai: +8 h). */
function zoneOffsetMs(timeZone: string, atMs: number): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(new Date(atMs))
      .map((p) => [p.type, p.value]),
  );
  const asUtc = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return asUtc - Math.floor(atMs / 1000) * 1000;
}

/** The UTC instant of local `hh:mm` on the local calendar day containing `dayMs`. */
function localTime(timeZone: string, dayMs: number, hhmm: string): number {
  const offset = zoneOffsetMs(timeZone, dayMs);
  const local = new Date(dayMs + offset);
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const guess = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), h, m) - offset;
  // Correct once for a DST change between `dayMs` and the class (not in China, but in other zones).
  return guess - (zoneOffsetMs(timeZone, guess) - offset);
}

function isoWeekday(timeZone: string, atMs: number): number {
  const day = new Date(atMs + zoneOffsetMs(timeZone, atMs)).getUTCDay();
  return day === 0 ? 7 : day;
}

/**
 * The class under way or the next one, from a weekly timetable in the centre's time zone;
 * undefined for an empty timetable.
 */
export function nextClass(
  timetable: readonly TimetableEntry[],
  timeZone: string,
  nowMs: number,
): NextClass | undefined {
  let best: { entry: TimetableEntry; startMs: number; endMs: number } | undefined;
  for (let d = 0; d <= 7 && !best; d++) {
    const dayMs = nowMs + d * DAY_MS;
    const weekday = isoWeekday(timeZone, dayMs);
    for (const entry of timetable) {
      if (entry.weekday !== weekday) continue;
      const startMs = localTime(timeZone, dayMs, entry.start);
      const endMs = localTime(timeZone, dayMs, entry.end);
      if (endMs <= nowMs) continue;
      if (!best || startMs < best.startMs) best = { entry, startMs, endMs };
    }
  }
  return best
    ? {
        title: best.entry.title,
        startsAt: new Date(best.startMs).toISOString(),
        endsAt: new Date(best.endMs).toISOString(),
      }
    : undefined;
}
