import type { MediaProfileView } from '../../protocol/kiosk-messages';
import { audioCodecOrder, mungeOpusAnswer, videoCodecOrder } from './codec-choice';

/**
 * How the box's publisher encodes (issue 16, docs/media.md): the codec chosen explicitly, the picture
 * capped at the board's size and frame rate, and sound protected before video. Applied to every
 * publisher before its offer is made, so an offer prepared while idle carries the same choices.
 */

/** An older daemon sends no profile: the codec is still chosen, the audio gets the defaults below. */
const DEFAULT_PROFILE: MediaProfileView = { name: 'pc', videoCodec: 'VP8', audioKbps: 32 };

export interface PublisherCaps {
  readonly profile: MediaProfileView | undefined;
  readonly videoKbps: number;
  readonly fps: number;
}

/** Set codec order, bitrate, frame rate and priorities on a new publisher's transceivers. */
export async function applyPublisherProfile(
  audio: RTCRtpTransceiver,
  video: RTCRtpTransceiver,
  caps: PublisherCaps,
): Promise<void> {
  const profile = caps.profile ?? DEFAULT_PROFILE;
  // Receiver capabilities: Chromium checks codec preferences against them.
  const videoCodecs = RTCRtpReceiver.getCapabilities('video')?.codecs ?? [];
  const audioCodecs = RTCRtpReceiver.getCapabilities('audio')?.codecs ?? [];
  try {
    video.setCodecPreferences(videoCodecOrder(videoCodecs, profile.videoCodec));
    audio.setCodecPreferences(audioCodecOrder(audioCodecs));
  } catch (error) {
    console.warn('codec preferences', error);
  }
  // Sound goes first when the link is short (RTCRtpEncodingParameters.priority/networkPriority): the
  // pacer serves audio before video, and a tutor can teach without a picture but not without sound.
  const videoParams = video.sender.getParameters();
  videoParams.encodings = [
    {
      maxBitrate: caps.videoKbps * 1000,
      maxFramerate: caps.fps,
      priority: 'low',
      networkPriority: 'low',
    },
  ];
  // Chromium's default degradation (balanced) is kept on purpose: with 'maintain-resolution' the encoder
  // never reports `qualityLimitationReason: 'bandwidth'`, and the sound-only fallback, which needs it,
  // no longer triggers on a 150 kbit/s uplink (test/integration/recovery/network.test.ts; docs/media.md).
  await video.sender.setParameters(videoParams).catch((e) => console.warn('video parameters', e));
  const audioParams = audio.sender.getParameters();
  audioParams.encodings = [
    { maxBitrate: profile.audioKbps * 1000, priority: 'high', networkPriority: 'high' },
  ];
  await audio.sender.setParameters(audioParams).catch((e) => console.warn('audio parameters', e));
}

export type VideoLayer = 'low' | 'full';

/** The small picture a try at video starts with: a quarter of the pixels, within this bitrate. */
const LOW_LAYER = { scaleResolutionDownBy: 2, maxKbps: 200 };

/**
 * Send the full picture, or the low layer a try at video starts with after sound only: the encoder's
 * bandwidth estimate has sunk to the sound's, and a full-rate restart would flood the link it is testing.
 */
export async function applyVideoLayer(
  sender: RTCRtpSender,
  videoKbps: number,
  fps: number,
  layer: VideoLayer,
): Promise<void> {
  const params = sender.getParameters();
  const [first] = params.encodings;
  if (!first) return;
  first.scaleResolutionDownBy = layer === 'low' ? LOW_LAYER.scaleResolutionDownBy : 1;
  first.maxBitrate = (layer === 'low' ? Math.min(videoKbps, LOW_LAYER.maxKbps) : videoKbps) * 1000;
  first.maxFramerate = fps;
  await sender.setParameters(params).catch((e) => console.warn('video layer', e));
}

/** Janus's answer with the profile's Opus settings (see `mungeOpusAnswer`). */
export function answerWithProfile(sdp: string, profile: MediaProfileView | undefined): string {
  return mungeOpusAnswer(sdp, (profile ?? DEFAULT_PROFILE).audioKbps);
}
