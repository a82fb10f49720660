import type { MediaProfileView } from '../../protocol/kiosk-messages';

/**
 * How the box's publisher encodes (issue 16, docs/media.md): the codec chosen explicitly, the picture
 * capped at the board's size and frame rate, and sound protected before video. Applied to every
 * publisher before its offer is made, so an offer prepared while idle carries the same choices.
 */

/** An older daemon sends no profile: the codec is still chosen, the audio gets the defaults below. */
const DEFAULT_PROFILE: MediaProfileView = { name: 'pc', videoCodec: 'VP8', audioKbps: 32 };

/** Codecs that only wrap or repair the chosen one; kept after it so NACK retransmission still works. */
const HELPERS = new Set(['video/rtx', 'video/red', 'video/ulpfec', 'video/flexfec-03']);

export interface PublisherCaps {
  readonly profile: MediaProfileView | undefined;
  readonly videoKbps: number;
  readonly fps: number;
}

/**
 * The chosen video codec first, its helpers after, every other codec left out: Janus answers with the
 * first codec of the offer its room allows, and the room's default must not pick one the board cannot
 * encode cheaply.
 */
export function videoCodecOrder(codecs: readonly RTCRtpCodec[], chosen: string): RTCRtpCodec[] {
  const mime = `video/${chosen}`.toLowerCase();
  const main = codecs.filter((c) => c.mimeType.toLowerCase() === mime);
  if (main.length === 0) return [...codecs];
  return [...main, ...codecs.filter((c) => HELPERS.has(c.mimeType.toLowerCase()))];
}

/**
 * RED (RFC 2198, each packet carries the previous one too) first where the browser has it, then Opus.
 * Janus answers with what its VideoRoom negotiates: Debian's 1.1.2 answers plain Opus (docs/media.md),
 * a Janus that knows `audio/red` keeps it.
 */
export function audioCodecOrder(codecs: readonly RTCRtpCodec[]): RTCRtpCodec[] {
  const red = codecs.filter((c) => c.mimeType.toLowerCase() === 'audio/red');
  const opus = codecs.filter((c) => c.mimeType.toLowerCase() === 'audio/opus');
  if (opus.length === 0) return [...codecs];
  return [...red, ...opus];
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
  await video.sender.setParameters(videoParams).catch((e) => console.warn('video parameters', e));
  const audioParams = audio.sender.getParameters();
  audioParams.encodings = [
    { maxBitrate: profile.audioKbps * 1000, priority: 'high', networkPriority: 'high' },
  ];
  await audio.sender.setParameters(audioParams).catch((e) => console.warn('audio parameters', e));
}

/**
 * Opus's encoder settings come from the *receiver's* description, here Janus's answer: ask for in-band
 * FEC (a lost packet rebuilt from the next one), DTX (nothing sent in silence, leaving room for
 * retransmissions) and the profile's bitrate. Janus 1.1.2 writes `useinbandfec=1` when the room has
 * `opus_fec` (its default) and `usedtx` only with `opus_dtx`, and never a bitrate. `maxplaybackrate=16000`
 * keeps Opus in wideband SILK, the only mode that carries in-band FEC (libopus's LBRR); wideband is
 * "HD voice", enough for a classroom's speech.
 */
export function mungeOpusAnswer(sdp: string, profile: MediaProfileView | undefined): string {
  const audioKbps = (profile ?? DEFAULT_PROFILE).audioKbps;
  const lines = sdp.split('\r\n');
  const opusPts = new Set(
    lines.flatMap((l) => {
      const m = /^a=rtpmap:(\d+) opus\/48000/i.exec(l);
      return m ? [m[1]] : [];
    }),
  );
  const wanted: Record<string, string> = {
    useinbandfec: '1',
    usedtx: '1',
    maxaveragebitrate: String(audioKbps * 1000),
    maxplaybackrate: '16000',
  };
  const seen = new Set<string>();
  const out = lines.map((line) => {
    const m = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (!m || !opusPts.has(m[1])) return line;
    seen.add(m[1]);
    const params = new Map(
      m[2]
        .split(';')
        .map((p) => p.trim())
        .filter(Boolean)
        .map((p) => {
          const [k, ...v] = p.split('=');
          return [k.trim().toLowerCase(), v.join('=').trim()] as const;
        }),
    );
    for (const [k, v] of Object.entries(wanted)) params.set(k, v);
    return `a=fmtp:${m[1]} ${[...params].map(([k, v]) => `${k}=${v}`).join(';')}`;
  });
  // An Opus payload type with no fmtp line at all gets one, right after its rtpmap.
  for (const pt of opusPts) {
    if (seen.has(pt)) continue;
    const at = out.findIndex((l) => l.startsWith(`a=rtpmap:${pt} `));
    out.splice(
      at + 1,
      0,
      `a=fmtp:${pt} ${Object.entries(wanted)
        .map(([k, v]) => `${k}=${v}`)
        .join(';')}`,
    );
  }
  return out.join('\r\n');
}
