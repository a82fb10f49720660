import { z } from 'zod';
import type { DeviceHealth } from '../../common/device-health.js';
import { mediaStatsMessageSchema } from './media-stats.js';
import type { SelfTestStatus } from '../domain/self-test.js';

/**
 * The loopback WebSocket between the daemon and its kiosk page. The daemon validates
 * everything the page sends; the page trusts nothing it did not ask for.
 */

const jsep = z.strictObject({ type: z.enum(['offer', 'answer']), sdp: z.string().min(1).max(200_000) });
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
  }),
  mediaStatsMessageSchema,
]);
export type PageMessage = z.output<typeof pageMessageSchema>;

export interface RemoteFeedView {
  readonly feed: string;
  readonly display: string;
}

/** Each peripheral's health, as the daemon keeps it (`HealthService`). */
export type HealthView = Readonly<Record<string, DeviceHealth>>;

/** Everything the page needs to draw the current screen. */
export interface ScreenState {
  readonly state: 'idle' | 'joining' | 'live' | 'leaving' | 'reconnecting' | 'error';
  readonly displayName: string;
  readonly centreName?: string;
  readonly room?: number;
  readonly configured: boolean;
  /** False on a fleet box that has neither enrolled nor a seed to enrol with (E-NOT-ENROLLED). */
  readonly enrolled: boolean;
  readonly muted: boolean;
  readonly remoteFeeds: readonly RemoteFeedView[];
  readonly health: HealthView;
  readonly errorCode?: string;
  /** While the class button is held in a live class: ms left until the class ends. */
  readonly endCountdownMs?: number;
  readonly endHoldMs: number;
  /** How long the mute button is held while idle to start the self-test (the idle screen says so). */
  readonly selfTestHoldMs: number;
  readonly hint?: 'holdToEnd' | 'busy';
  /** Which step of joining is under way, for the joining screen. */
  readonly joinStep?: 'server' | 'publish' | 'subscribe';
  readonly audioOnly: boolean;
  readonly nextClass?: { title: string; startsAt: string };
  readonly selfTest?: readonly { check: string; status: SelfTestStatus; detail?: string }[];
  readonly version: string;
}

export interface MediaConstraintsView {
  readonly cameraLabel?: string;
  readonly microphoneLabel?: string;
  /** The speaker's label among Chromium's audio outputs, for HTMLMediaElement.setSinkId. */
  readonly speakerLabel?: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

/** How the page sends (issue 16, docs/media.md): the board's profile, codec and audio settings. */
export interface MediaProfileView {
  readonly name: 'pi4' | 'pi5' | 'pc';
  readonly videoCodec: 'VP8';
  readonly audioKbps: number;
}

export type DaemonMessage =
  | { type: 'screen'; screen: ScreenState }
  | {
      type: 'config';
      media: MediaConstraintsView;
      iceServers: readonly RTCIceServerLike[];
      bitrateKbps: number;
      /** Absent from an older daemon: the page then sends VP8 with its default audio. */
      profile?: MediaProfileView;
    }
  /**
   * `fresh`: make a new offer rather than hand over the one prepared while idle — after a lost
   * connection, whose network may have changed since the prepared candidates were gathered.
   */
  | {
      type: 'request';
      id: number;
      action: 'publisher.offer';
      audio: boolean;
      video: boolean;
      fresh?: boolean;
    }
  | { type: 'request'; id: number; action: 'subscriber.answer'; offer: { type: 'offer'; sdp: string } }
  /** A JPEG still of the camera as the page sees it (works while the camera is busy in class). */
  | { type: 'request'; id: number; action: 'camera.snapshot' }
  /** Play a short test tone on the speaker (self-test). */
  | { type: 'request'; id: number; action: 'speaker.tone'; hz: number; ms: number }
  | { type: 'publisher.answer'; jsep: { type: 'answer'; sdp: string } }
  /** `layer: 'low'`: a try at video after sound only, sent as a small picture first (issue 16). */
  | { type: 'publisher.video'; enabled: boolean; layer?: 'low' }
  | { type: 'publisher.close' }
  | {
      type: 'subscriber.streams';
      streams: readonly { mid: string; feed: string; display: string; type: string }[];
    }
  | { type: 'subscriber.close' }
  /** The other publishers now in the room: the page drops tiles of any that left, whatever the SDP says. */
  | { type: 'subscriber.feeds'; feeds: readonly { feed: string; display: string }[] }
  | { type: 'mute'; muted: boolean }
  | {
      type: 'candidate';
      target: 'publisher' | 'subscriber';
      candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null;
    };

export interface RTCIceServerLike {
  readonly urls: string | readonly string[];
  readonly username?: string;
  readonly credential?: string;
}
