/**
 * The box's video encodings (issue 16, docs/media.md "Layers") as a plain function: no browser API here,
 * so the unit tests run it under Node.
 *
 * With simulcast the box sends its picture in 2–3 sizes (rids in Janus's default `hml` order: the first is
 * the full picture, Janus's substream 2; the last the smallest, substream 0). Another box that shows this
 * one as a thumbnail takes the smallest, so it decodes a quarter of the pixels or less.
 */

export type VideoLayer = 'low' | 'full';

export interface EncodingSettings {
  readonly rid?: string;
  readonly active: boolean;
  readonly scaleResolutionDownBy: number;
  readonly maxBitrate: number;
  readonly maxFramerate: number;
  /** VP8 with three temporal layers: Janus can relay a thumbnail at half or a quarter of its frame rate. */
  readonly scalabilityMode?: string;
}

const RIDS = { 2: ['h', 'l'], 3: ['h', 'm', 'l'] } as const;
/** Each smaller layer is half as wide and high as the one above it. */
const SCALES = { 2: [1, 2], 3: [1, 2, 4] } as const;
/** The smallest layer is a thumbnail: a low frame rate and a small share of the bitrate. */
const SMALL_FPS = 15;
const SMALL_MAX_KBPS = 150;
/** A try at video after sound only: the half-size picture, within this rate, at the full frame rate. */
const PROBE_SCALE = 2;
const PROBE_MAX_KBPS = 200;

/**
 * Every encoding of the video sender, in the order the sender has them. `low` (a try at video after
 * sound only) leaves only the half-size picture on, within 200 kbit/s: the encoder's bandwidth estimate
 * has sunk to the sound's, and the full rate would flood the link it is testing. It is the probe the
 * sound-only fallback was tuned with (its rate must reach `network.minVideoKbps` to count as carried), so
 * it is the same with one layer (the picture itself halved) as with two or three (the half-size layer).
 */
export function videoEncodings(
  layers: 1 | 2 | 3,
  videoKbps: number,
  fps: number,
  sending: VideoLayer = 'full',
): EncodingSettings[] {
  const probeKbps = Math.min(videoKbps, PROBE_MAX_KBPS);
  if (layers === 1) {
    const low = sending === 'low';
    return [
      {
        active: true,
        scaleResolutionDownBy: low ? PROBE_SCALE : 1,
        maxBitrate: (low ? probeKbps : videoKbps) * 1000,
        maxFramerate: fps,
      },
    ];
  }
  const small = Math.min(SMALL_MAX_KBPS, Math.round(videoKbps * 0.2));
  const middle = layers === 3 ? Math.round(videoKbps * 0.3) : 0;
  const kbps = layers === 3 ? [videoKbps - small - middle, middle, small] : [videoKbps - small, small];
  return RIDS[layers].map((rid, i) => {
    const scale = SCALES[layers][i]!;
    const probe = sending === 'low' && scale === PROBE_SCALE;
    return {
      rid,
      active: sending === 'full' || probe,
      scaleResolutionDownBy: scale,
      maxBitrate: (probe ? probeKbps : kbps[i]!) * 1000,
      maxFramerate: i === 0 || probe ? fps : Math.min(fps, SMALL_FPS),
      scalabilityMode: 'L1T3',
    };
  });
}
