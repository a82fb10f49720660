import { z } from 'zod';
import { deviceHealthSchema } from '../../common/device-health.js';
import { mediaStatsMessageSchema } from './media-stats.js';

/**
 * The loopback WebSocket between the daemon and its kiosk page, both ways as schemas and the types
 * derived from them. The daemon validates everything the page sends (`pageMessageSchema`); what the
 * daemon sends (`daemonMessageSchema`) is checked by the tests' fake page, so the page (which bundles
 * only the types, not zod) can rely on it.
 */

const jsep = z.strictObject({ type: z.enum(['offer', 'answer']), sdp: z.string().min(1).max(200_000) });
const offer = z.strictObject({ type: z.literal('offer'), sdp: z.string().min(1).max(200_000) });
const answer = z.strictObject({ type: z.literal('answer'), sdp: z.string().min(1).max(200_000) });
const candidate = z.object({
  candidate: z.string().max(2000),
  sdpMid: z.string().max(64).nullish(),
  sdpMLineIndex: z.int().min(0).max(64).nullish(),
});
const target = z.enum(['publisher', 'subscriber']);
const deviceStatus = z.enum(['ok', 'missing', 'error']);

export const pageMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('hello'), page: z.string().max(64) }),
  z.strictObject({ type: z.literal('heartbeat'), at: z.number() }),
  z.strictObject({
    type: z.literal('reply'),
    id: z.int().nonnegative(),
    ok: z.boolean(),
    jsep: jsep.optional(),
    /** A camera still from the live stream, as a `data:image/jpeg;base64,` URL (camera.snapshot). */
    image: z.string().startsWith('data:image/jpeg;base64,').max(4_000_000).optional(),
    error: z.string().max(500).optional(),
  }),
  z.strictObject({ type: z.literal('candidate'), target, candidate: candidate.nullable() }),
  z.strictObject({
    type: z.literal('media'),
    camera: deviceStatus,
    microphone: deviceStatus,
    cameraLabel: z.string().max(200).optional(),
    microphoneLabel: z.string().max(200).optional(),
    /** Microphone level 0..1 for the meter and for health. */
    level: z.number().min(0).max(1).optional(),
  }),
  z.strictObject({
    type: z.literal('connection'),
    target,
    state: z.enum(['new', 'connecting', 'connected', 'disconnected', 'failed', 'closed']),
  }),
  z.strictObject({
    type: z.literal('stats'),
    /** Outgoing video bitrate the page measured, kbit/s. */
    videoKbps: z.number().nonnegative(),
    audioKbps: z.number().nonnegative(),
    /** Frames the teacher's video decoded so far (all remote video). */
    framesDecoded: z.int().nonnegative(),
    qualityLimitation: z.string().max(32).optional(),
    /** The congestion controller's estimate of the uplink (selected candidate pair), kbit/s. */
    availableOutgoingKbps: z.number().nonnegative().optional(),
  }),
  mediaStatsMessageSchema,
  /**
   * A catch-up replay's part (issue 21): how far it has played (`progress`, every few seconds while it
   * plays, and on a pause), played to its end, or could not be played.
   */
  z.strictObject({
    type: z.literal('replay'),
    event: z.enum(['progress', 'ended', 'error']),
    src: z.string().max(200),
    /** How much of the part was shown, ms (the video's position). */
    watchedMs: z
      .number()
      .nonnegative()
      .max(24 * 3600_000),
    error: z.string().max(500).optional(),
  }),
]);
export type PageMessage = z.output<typeof pageMessageSchema>;

export const remoteFeedViewSchema = z.strictObject({ feed: z.string(), display: z.string() });
export type RemoteFeedView = z.output<typeof remoteFeedViewSchema>;

/** Each peripheral's health, as the daemon keeps it (`HealthService`). */
export const healthViewSchema = z.record(z.string(), deviceHealthSchema);
export type HealthView = z.output<typeof healthViewSchema>;

export const sessionStateViewSchema = z.enum(['idle', 'joining', 'live', 'leaving', 'reconnecting', 'error']);

/** `unchecked`: the device is there, but the screen could not try it (no kiosk page). */
export const selfTestStatusSchema = z.enum(['running', 'ok', 'failed', 'unchecked']);

/** Everything the page needs to draw the current screen. */
export const screenStateSchema = z.strictObject({
  state: sessionStateViewSchema,
  displayName: z.string(),
  centreName: z.string().optional(),
  room: z.int().optional(),
  configured: z.boolean(),
  /** False on a fleet box that has neither enrolled nor a seed to enrol with (E-NOT-ENROLLED). */
  enrolled: z.boolean(),
  muted: z.boolean(),
  remoteFeeds: z.array(remoteFeedViewSchema).readonly(),
  health: healthViewSchema,
  errorCode: z.string().optional(),
  /** While the class button is held in a live class: ms left until the class ends. */
  endCountdownMs: z.number().nonnegative().optional(),
  endHoldMs: z.number().nonnegative(),
  /** How long the mute button is held while idle to start the self-test (the idle screen says so). */
  selfTestHoldMs: z.number().nonnegative(),
  hint: z.enum(['holdToEnd', 'busy']).optional(),
  /** Which step of joining is under way, for the joining screen. */
  joinStep: z.enum(['server', 'publish', 'subscribe']).optional(),
  audioOnly: z.boolean(),
  nextClass: z.strictObject({ title: z.string(), startsAt: z.string() }).optional(),
  selfTest: z
    .array(z.strictObject({ check: z.string(), status: selfTestStatusSchema, detail: z.string().optional() }))
    .readonly()
    .optional(),
  version: z.string(),
  /**
   * Lesson catch-up (issue 21), idle only: the missed minutes of the last class that can be replayed,
   * and while replaying, the part to play full screen (a URL on this daemon) and whether it is paused.
   */
  catchup: z
    .strictObject({
      missedMinutes: z.number().nonnegative(),
      playing: z
        .strictObject({
          src: z.string(),
          part: z.int().positive(),
          parts: z.int().positive(),
          paused: z.boolean(),
        })
        .optional(),
    })
    .optional(),
});
export type ScreenState = z.output<typeof screenStateSchema>;

export const mediaConstraintsViewSchema = z.strictObject({
  cameraLabel: z.string().optional(),
  microphoneLabel: z.string().optional(),
  /** The speaker's label among Chromium's audio outputs, for HTMLMediaElement.setSinkId. */
  speakerLabel: z.string().optional(),
  width: z.int().positive(),
  height: z.int().positive(),
  fps: z.number().positive(),
});
export type MediaConstraintsView = z.output<typeof mediaConstraintsViewSchema>;

/** How the page sends (issue 16, docs/media.md): the board's profile, codec and audio settings. */
export const mediaProfileViewSchema = z.strictObject({
  name: z.enum(['pi4', 'pi5', 'pc']),
  videoCodec: z.literal('VP8'),
  audioKbps: z.number().positive(),
  /** Simulcast layers to send (docs/media.md, "Layers"); absent from an older daemon: one. */
  layers: z.int().min(1).max(3).optional(),
});
export type MediaProfileView = z.output<typeof mediaProfileViewSchema>;

export const rtcIceServerSchema = z.strictObject({
  urls: z.union([z.string(), z.array(z.string()).readonly()]),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type RTCIceServerLike = z.output<typeof rtcIceServerSchema>;

const feedView = z.strictObject({ feed: z.string(), display: z.string() });

export const daemonMessageSchema = z.union([
  z.strictObject({ type: z.literal('screen'), screen: screenStateSchema }),
  z.strictObject({
    type: z.literal('config'),
    media: mediaConstraintsViewSchema,
    iceServers: z.array(rtcIceServerSchema).readonly(),
    bitrateKbps: z.number().positive(),
    /** Absent from an older daemon: the page then sends VP8 with its default audio. */
    profile: mediaProfileViewSchema.optional(),
  }),
  /**
   * `fresh`: make a new offer rather than hand over the one prepared while idle — after a lost
   * connection, whose network may have changed since the prepared candidates were gathered.
   */
  z.strictObject({
    type: z.literal('request'),
    id: z.int().nonnegative(),
    action: z.literal('publisher.offer'),
    audio: z.boolean(),
    video: z.boolean(),
    fresh: z.boolean().optional(),
  }),
  z.strictObject({
    type: z.literal('request'),
    id: z.int().nonnegative(),
    action: z.literal('subscriber.answer'),
    offer,
  }),
  /** A JPEG still of the camera as the page sees it (works while the camera is busy in class). */
  z.strictObject({
    type: z.literal('request'),
    id: z.int().nonnegative(),
    action: z.literal('camera.snapshot'),
  }),
  /** Play a short test tone on the speaker (self-test). */
  z.strictObject({
    type: z.literal('request'),
    id: z.int().nonnegative(),
    action: z.literal('speaker.tone'),
    hz: z.number().positive(),
    ms: z.number().positive(),
  }),
  z.strictObject({ type: z.literal('publisher.answer'), jsep: answer }),
  /** `layer: 'low'`: a try at video after sound only, sent as a small picture first (issue 16). */
  z.strictObject({
    type: z.literal('publisher.video'),
    enabled: z.boolean(),
    layer: z.literal('low').optional(),
  }),
  z.strictObject({ type: z.literal('publisher.close') }),
  z.strictObject({
    type: z.literal('subscriber.streams'),
    streams: z
      .array(z.strictObject({ mid: z.string(), feed: z.string(), display: z.string(), type: z.string() }))
      .readonly(),
  }),
  z.strictObject({ type: z.literal('subscriber.close') }),
  /**
   * Whose video the box receives now (issue 16): `teacher` large, `thumbnail` small, `name` a name tile
   * with sound only (the decode cap), `paused` the teacher's picture held back while the downlink is bad.
   */
  z.strictObject({
    type: z.literal('subscriber.video'),
    feeds: z
      .array(z.strictObject({ feed: z.string(), shown: z.enum(['teacher', 'thumbnail', 'name', 'paused']) }))
      .readonly(),
  }),
  /** The other publishers now in the room: the page drops tiles of any that left, whatever the SDP says. */
  z.strictObject({ type: z.literal('subscriber.feeds'), feeds: z.array(feedView).readonly() }),
  z.strictObject({ type: z.literal('mute'), muted: z.boolean() }),
  z.strictObject({ type: z.literal('candidate'), target, candidate: candidate.nullable() }),
]);
export type DaemonMessage = z.output<typeof daemonMessageSchema>;
