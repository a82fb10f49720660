import type { MediaProfileView } from '../../protocol/kiosk-messages';
import { audioCodecOrder, mungeOpusAnswer, videoCodecOrder } from './codec-choice';
import { videoEncodings, type EncodingSettings, type VideoLayer } from './simulcast';

export type { VideoLayer } from './simulcast';

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

/** Simulcast layers of a profile (an older daemon names none: one layer). */
export function layersOf(profile: MediaProfileView | undefined): 1 | 2 | 3 {
  const n = profile?.layers ?? 1;
  return n >= 3 ? 3 : n === 2 ? 2 : 1;
}

/**
 * The encodings a new video transceiver is made with (`sendEncodings`): their number and rids cannot
 * change later, only their settings.
 */
export function sendEncodings(caps: PublisherCaps): RTCRtpEncodingParameters[] {
  return videoEncodings(layersOf(caps.profile), caps.videoKbps, caps.fps).map(withPriority);
}

/** Sound goes first when the link is short: the pacer serves audio before video. */
function withPriority(e: EncodingSettings): RTCRtpEncodingParameters {
  return { ...e, priority: 'low', networkPriority: 'low' } as RTCRtpEncodingParameters;
}

/** Copy the planned settings onto the sender's encodings, in order (rids stay as negotiated). */
function assignEncodings(params: RTCRtpSendParameters, planned: readonly EncodingSettings[]): void {
  params.encodings.forEach((encoding, i) => {
    const p = planned[i];
    if (!p) return;
    encoding.active = p.active;
    encoding.scaleResolutionDownBy = p.scaleResolutionDownBy;
    encoding.maxBitrate = p.maxBitrate;
    encoding.maxFramerate = p.maxFramerate;
    encoding.priority = 'low';
    encoding.networkPriority = 'low';
  });
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
  assignEncodings(videoParams, videoEncodings(layersOf(caps.profile), caps.videoKbps, caps.fps));
  // Chromium's default degradation (balanced) is kept, measured: under a Pi 4's budget it held the pi4
  // picture's 360 lines up to a machine load of 24 and sheds frames only down to ~15 fps first, where
  // 'maintain-resolution' cuts the frame rate by a third at a time and sent fewer frames in four
  // alternating runs of four (docs/media.md, "CPU under a Pi's budget"). The sound-only fallback does not
  // depend on it: it reads the congestion controller's estimate as well as the encoder's 'bandwidth'.
  await video.sender.setParameters(videoParams).catch((e) => console.warn('video parameters', e));
  const audioParams = audio.sender.getParameters();
  audioParams.encodings = [
    { maxBitrate: profile.audioKbps * 1000, priority: 'high', networkPriority: 'high' },
  ];
  await audio.sender.setParameters(audioParams).catch((e) => console.warn('audio parameters', e));
}

/**
 * Send the full picture, or the low layer a try at video starts with after sound only (`videoEncodings`):
 * the encoder's bandwidth estimate has sunk to the sound's, and a full-rate restart would flood the link
 * it is testing.
 */
export async function applyVideoLayer(
  sender: RTCRtpSender,
  caps: PublisherCaps,
  layer: VideoLayer,
): Promise<void> {
  const params = sender.getParameters();
  if (params.encodings.length === 0) return;
  const layers = params.encodings.length >= 3 ? 3 : params.encodings.length === 2 ? 2 : 1;
  assignEncodings(params, videoEncodings(layers, caps.videoKbps, caps.fps, layer));
  await sender.setParameters(params).catch((e) => console.warn('video layer', e));
}

/** Janus's answer with the profile's Opus settings (see `mungeOpusAnswer`). */
export function answerWithProfile(sdp: string, profile: MediaProfileView | undefined): string {
  return mungeOpusAnswer(sdp, (profile ?? DEFAULT_PROFILE).audioKbps);
}
