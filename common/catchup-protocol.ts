import { z } from 'zod';

/**
 * Lesson catch-up (issue 21) between a box and the fleet: the stretches of a class the box missed (in
 * its heartbeats), and the cut of the teacher's recording the box fetches for each after the class.
 * Times are milliseconds since the epoch, the clock both the box and the media node's recording use.
 */

const epochMs = z.int().min(1_500_000_000_000).max(4_000_000_000_000);

export const missReasonSchema = z.enum(['reconnecting', 'stalled', 'joinedLate']);

export const missedIntervalSchema = z
  .strictObject({ fromMs: epochMs, toMs: epochMs, reason: missReasonSchema })
  .refine((m) => m.toMs > m.fromMs, { message: 'toMs must be after fromMs', path: ['toMs'] });

/** One class a box was in and missed part of; `caughtUpMs`: how much of it the box has replayed. */
export const missedClassSchema = z.strictObject({
  classId: z.string().min(1).max(64),
  room: z.int().positive(),
  joinedAtMs: epochMs,
  endedAtMs: epochMs.optional(),
  missed: z.array(missedIntervalSchema).max(50),
  caughtUpMs: z
    .int()
    .nonnegative()
    .max(24 * 3600_000),
});
export type MissedClassReport = z.output<typeof missedClassSchema>;

/** The heartbeat's `catchup` field; sent only to a server that says it takes it (`accepts`). */
export const catchupReportSchema = z.strictObject({
  classes: z.array(missedClassSchema).max(10),
  /** The last fetch that failed, with its code (E-CATCHUP-…), until one succeeds. */
  lastError: z.strictObject({ code: z.string().max(64), detail: z.string().max(500) }).optional(),
});
export type CatchupReport = z.output<typeof catchupReportSchema>;

/** The heartbeat field name a server lists in `accepts` when it takes {@link catchupReportSchema}. */
export const CATCHUP_FIELD = 'catchup';

/** The longest stretch one cut may span: a whole class is not a catch-up, and bounds the server's work. */
export const MAX_CUT_MS = 2 * 3600_000;

/** `POST /api/v1/devices/{id}/catchup/cuts`: cut this stretch of the teacher's recording of `room`. */
export const cutRequestSchema = z
  .strictObject({ room: z.int().positive(), fromMs: epochMs, toMs: epochMs })
  .refine((r) => r.toMs > r.fromMs, { message: 'toMs must be after fromMs', path: ['toMs'] })
  .refine((r) => r.toMs - r.fromMs <= MAX_CUT_MS, {
    message: `a cut spans at most ${MAX_CUT_MS / 60_000} minutes`,
    path: ['toMs'],
  });
export type CutRequest = z.output<typeof cutRequestSchema>;

/** The cut, ready: fetch it from `path` (Range works) and check its length and SHA-256. */
export const cutSchema = z.object({
  cutId: z.string().regex(/^[a-f0-9]{16,64}$/),
  path: z.string().startsWith('/api/v1/devices/'),
  size: z.int().positive(),
  sha256: z.string().regex(/^[a-f0-9]{64}$/),
  /** What the cut holds: the stretch asked for, as far as the recording has it. */
  fromMs: epochMs,
  toMs: epochMs,
});
export type Cut = z.output<typeof cutSchema>;
