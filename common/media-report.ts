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
    /**
     * The congestion controller's estimate of the uplink (`availableOutgoingBitrate` of the candidate pair
     * in use): what the box believes it can send. Under random loss it can sit above the real link.
     */
    uplinkKbps: kbps.optional(),
  }),
  inbound: z
    .array(
      z.strictObject({
        feed: z.string().max(64),
        video: z
          .strictObject({
            width: pixels,
            height: pixels,
            fps,
            lossPct: percent,
            jitterMs: ms,
            /** Freezes in the interval (WebRTC `freezeCount`); absent from an older page. */
            freezes: z.int().nonnegative().max(10_000).optional(),
            /** Average wait of a frame in the jitter buffer over the interval (`jitterBufferDelay`). */
            jitterBufferMs: ms.optional(),
          })
          .optional(),
        audio: z
          .strictObject({
            lossPct: percent,
            jitterMs: ms,
            /** Share of the played samples that were concealment, not sound received in time. */
            concealedPct: percent,
            jitterBufferMs: ms.optional(),
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
/** How the box receives one other publisher (issue 16): its role on screen and Janus's layer for it. */
export const receivingSchema = z.strictObject({
  feed: z.string().max(64),
  shown: z.enum(['teacher', 'thumbnail', 'name', 'paused']),
  /** The simulcast substream and temporal layers asked of Janus; absent while not relayed. */
  substream: z.int().min(0).max(2).optional(),
  temporal: z.int().min(0).max(2).optional(),
});
export type Receiving = z.output<typeof receivingSchema>;

export const mediaStatusSchema = z.strictObject({
  profile: z.string().min(1).max(16),
  /** Other centres' videos decoded at once besides the teacher's. */
  maxThumbnails: z.int().min(0).max(16).optional(),
  /** In class: what the box asked Janus to relay of each publisher. */
  receiving: z.array(receivingSchema).max(32).optional(),
  outbound: mediaReportSchema.shape.outbound.optional(),
  inbound: mediaReportSchema.shape.inbound.optional(),
});
export type MediaStatus = z.output<typeof mediaStatusSchema>;
