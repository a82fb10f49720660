/**
 * When the uplink cannot carry video, send sound only; try video again now and then.
 * Pure: fed with the page's send statistics and Janus's slow-link reports, on injected time.
 *
 *  video ──(N bad samples)──▶ audioOnly ──(probe time)──▶ probing ──(N good)──▶ video
 *                                 ▲                          │
 *                                 └──(N bad; wait longer)────┘
 */
export interface UplinkSample {
  readonly at: number;
  /** Outgoing video bitrate measured by the page, kbit/s. */
  readonly videoKbps: number;
  /** The encoder says bandwidth limits it (WebRTC qualityLimitationReason). */
  readonly bandwidthLimited: boolean;
}

/** What the page reports of its sending, as far as the fallback needs it. */
export interface SendReport {
  /** WebRTC's `qualityLimitationReason` of the video encoder. */
  readonly qualityLimitation?: string;
  /** The congestion controller's estimate of the uplink (the selected candidate pair), kbit/s. */
  readonly availableOutgoingKbps?: number;
  /** What the sound sends now, kbit/s. */
  readonly audioKbps: number;
}

/**
 * Whether the link, not the encoder or the camera, holds the video back. The encoder's own word for it
 * (`qualityLimitationReason: 'bandwidth'`) is one reason of several and names only one at a time: a Pi 4
 * short of CPU says `cpu` even on a 150 kbit/s uplink, and a sender set to keep its resolution
 * (`maintain-resolution`) never says `bandwidth` at all (issue 16: the sound-only fallback then never
 * came). The congestion controller's own estimate says it either way: one that leaves less than the
 * smallest useful picture (`minVideoKbps`) beside the sound is a link that cannot carry video. Not
 * "below the senders' cap": a still picture sends little, the estimate then stays where it was, often
 * under the cap, and a good link must not be taken for a bad one.
 */
export function linkLimitsVideo(report: SendReport, minVideoKbps: number): boolean {
  if (report.qualityLimitation === 'bandwidth') return true;
  const available = report.availableOutgoingKbps;
  return available !== undefined && available < minVideoKbps + report.audioKbps;
}

export interface AudioOnlyOptions {
  /** Below this the picture is useless and only steals bandwidth from the sound. */
  readonly minVideoKbps: number;
  /** Consecutive samples that decide a switch. */
  readonly samples: number;
  readonly firstProbeMs: number;
  readonly maxProbeMs: number;
  /** After video (re)starts the encoder ramps up for a few seconds; samples then say nothing of the link. */
  readonly graceMs: number;
}

export type UplinkMode = 'video' | 'audioOnly' | 'probing';

export class AudioOnlyPolicy {
  private state: UplinkMode = 'video';
  private bad = 0;
  private good = 0;
  private probeMs: number;
  private nextProbeAt = 0;
  private graceUntil = 0;

  constructor(private readonly options: AudioOnlyOptions) {
    this.probeMs = options.firstProbeMs;
  }

  get mode(): UplinkMode {
    return this.state;
  }

  /** Whether the page should send video now. */
  get videoWanted(): boolean {
    return this.state !== 'audioOnly';
  }

  /** A new class (or rejoin) starts with video and a fresh judgement. */
  reset(now: number): void {
    this.state = 'video';
    this.bad = 0;
    this.good = 0;
    this.probeMs = this.options.firstProbeMs;
    this.graceUntil = now + this.options.graceMs;
  }

  /** Returns true when the video decision changed. */
  sample(s: UplinkSample): boolean {
    if (this.state === 'audioOnly') return false;
    if (s.at < this.graceUntil) return false;
    const isBad = s.bandwidthLimited && s.videoKbps < this.options.minVideoKbps;
    const isGood = s.videoKbps >= this.options.minVideoKbps;
    this.bad = isBad ? this.bad + 1 : 0;
    this.good = isGood ? this.good + 1 : 0;
    if (this.bad >= this.options.samples) {
      if (this.state === 'probing') this.probeMs = Math.min(this.options.maxProbeMs, this.probeMs * 2);
      return this.enterAudioOnly(s.at);
    }
    if (this.state === 'probing' && this.good >= this.options.samples) {
      this.state = 'video';
      this.probeMs = this.options.firstProbeMs;
      this.good = 0;
      return false;
    }
    return false;
  }

  /** Janus reports the box's uplink losing packets: as bad as a bad sample. */
  slowLink(at: number): boolean {
    return this.sample({ at, videoKbps: 0, bandwidthLimited: true });
  }

  /** Call now and then; returns true when it is time to try video again. */
  tick(now: number): boolean {
    if (this.state !== 'audioOnly' || now < this.nextProbeAt) return false;
    this.state = 'probing';
    this.bad = 0;
    this.good = 0;
    this.graceUntil = now + this.options.graceMs;
    return true;
  }

  private enterAudioOnly(at: number): boolean {
    this.state = 'audioOnly';
    this.bad = 0;
    this.good = 0;
    this.nextProbeAt = at + this.probeMs;
    return true;
  }
}
