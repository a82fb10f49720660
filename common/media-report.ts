import { z } from 'zod';

/**
 * What the kiosk page measures of its own media (issue 16): the box's outgoing picture and sound, and
 * each centre it receives. Sent by the page to the daemon, shown in `GET /api/status` and in the
 * heartbeat, so IT sees a box that sends 5 fps or loses a tenth of its packets. Rates are per second
 * over the page's last report interval; sizes are what the encoder or decoder actually produced.
 */

const fps = z.number().nonnegative().max(240);
const pixels = z.int().nonnegative().max(8192);
const kbps = z.number().nonnegative().max(100_000);
const percent = z.number().min(0).max(100);
const ms = z.number().nonnegative().max(600_000);

/** WebRTC's `qualityLimitationReason` (what holds the encoder back). */
export const qualityLimitationSchema = z.enum(['none', 'cpu', 'bandwidth', 'other']);

export const outboundVideoSchema = z.strictObject({
  width: pixels,
  height: pixels,
  fps,
  kbps,
  qualityLimitationReason: qualityLimitationSchema,
  /** e.g. `video/VP8`. */
  codec: z.string().max(32).optional(),
});

export const outboundAudioSchema = z.strictObject({
  kbps,
  codec: z.string().max(32).optional(),
});

export const mediaReportSchema = z.strictObject({
  outbound: z.strictObject({
    video: outboundVideoSchema.optional(),
    audio: outboundAudioSchema.optional(),
    /** What Janus reports receiving from the box (RTCP receiver reports): the uplink's loss and delay. */
    lossPct: percent.optional(),
    rttMs: ms.optional(),
  }),
  inbound: z
    .array(
      z.strictObject({
        feed: z.string().max(64),
        video: z
          .strictObject({ width: pixels, height: pixels, fps, lossPct: percent, jitterMs: ms })
          .optional(),
        audio: z
          .strictObject({
            lossPct: percent,
            jitterMs: ms,
            /** Share of the played samples that were concealment, not sound received in time. */
            concealedPct: percent,
          })
          .optional(),
      }),
    )
    .max(32),
});
export type MediaReport = z.output<typeof mediaReportSchema>;

/**
 * The box's media as `GET /api/status` and the heartbeat show it: the profile in use (pi4, pi5, pc) and,
 * in class, the page's latest report.
 */
export const mediaStatusSchema = z.strictObject({
  profile: z.string().min(1).max(16),
  outbound: mediaReportSchema.shape.outbound.optional(),
  inbound: mediaReportSchema.shape.inbound.optional(),
});
export type MediaStatus = z.output<typeof mediaStatusSchema>;
