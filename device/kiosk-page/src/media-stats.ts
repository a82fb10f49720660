import type { MediaReport } from '../../../common/media-report';

/**
 * The page's own media statistics (issue 16), from `getStats()` of its two connections: what it sends
 * (size, frame rate, bitrate, what limits the encoder, the loss Janus reports) and what it receives of
 * each centre (size, frame rate, loss, jitter, concealed sound). Counters become rates over the time
 * since the previous report.
 */

type Stat = RTCStats & Record<string, unknown>;

/**
 * The congestion controller's estimate of the uplink in bit/s: `availableOutgoingBitrate` of the candidate
 * pair in use, from a publisher's stats; undefined before a pair is chosen.
 */
export function uplinkEstimateBps(report: RTCStatsReport): number | undefined {
  let estimate: number | undefined;
  report.forEach((s: Stat) => {
    if (s.type !== 'transport' || typeof s.selectedCandidatePairId !== 'string') return;
    const available = (report.get(s.selectedCandidatePairId) as Stat | undefined)?.availableOutgoingBitrate;
    if (typeof available === 'number' && Number.isFinite(available)) estimate = available;
  });
  return estimate;
}

interface Counters {
  at: number;
  values: Map<string, number>;
}

const QUALITY = new Set(['none', 'cpu', 'bandwidth', 'other']);
const MAX_FEEDS = 32;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;
const pct = (part: number, whole: number): number =>
  whole > 0 ? Math.min(100, Math.max(0, round((part / whole) * 100))) : 0;

export class MediaStatsSampler {
  private last: Counters | undefined;

  /**
   * One report from the current stats. `feedOfMid` names the centre a subscriber's m-line carries.
   * Returns undefined while neither connection exists (nothing to report outside a class).
   */
  sample(
    publisher: RTCStatsReport | undefined,
    subscriber: RTCStatsReport | undefined,
    feedOfMid: (mid: string) => string | undefined,
    now: number,
  ): MediaReport | undefined {
    if (!publisher && !subscriber) {
      this.last = undefined;
      return undefined;
    }
    const values = new Map<string, number>();
    const seconds = this.last ? (now - this.last.at) / 1000 : 0;
    /** The change of a counter since the last report (0 on the first, or when the counter restarted). */
    const delta = (key: string, value: number): number => {
      values.set(key, value);
      const before = this.last?.values.get(key);
      return before === undefined || value < before ? 0 : value - before;
    };
    const rate = (key: string, value: number): number => (seconds > 0 ? delta(key, value) / seconds : 0);
    const codecOf = (report: RTCStatsReport, s: Stat): string | undefined => {
      const codec = typeof s.codecId === 'string' ? (report.get(s.codecId) as Stat | undefined) : undefined;
      return typeof codec?.mimeType === 'string' ? codec.mimeType.slice(0, 32) : undefined;
    };

    const report: MediaReport = { outbound: {}, inbound: [] };
    publisher?.forEach((s: Stat) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        // One entry per simulcast layer: the largest picture sent, the bitrate of all of them, and
        // 'bandwidth' if any layer is held back by it.
        const reason = String(s.qualityLimitationReason ?? 'none');
        const kbps = round((rate(`out.video.${s.id}`, num(s.bytesSent)) * 8) / 1000);
        const before = report.outbound.video;
        const larger = !before || num(s.frameWidth) > before.width;
        report.outbound.video = {
          width: larger ? num(s.frameWidth) : before.width,
          height: larger ? num(s.frameHeight) : before.height,
          fps: larger ? round(num(s.framesPerSecond)) : before.fps,
          kbps: round((before?.kbps ?? 0) + kbps),
          qualityLimitationReason:
            before?.qualityLimitationReason === 'bandwidth'
              ? 'bandwidth'
              : ((QUALITY.has(reason) ? reason : 'other') as 'none'),
          codec: codecOf(publisher, s) ?? before?.codec,
        };
      } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        report.outbound.audio = {
          kbps: round((rate(`out.audio.${s.id}`, num(s.bytesSent)) * 8) / 1000),
          codec: codecOf(publisher, s),
        };
      } else if (s.type === 'remote-inbound-rtp') {
        // Janus's receiver reports: the worst of the two m-lines is what the uplink does.
        report.outbound.lossPct = Math.max(report.outbound.lossPct ?? 0, pct(num(s.fractionLost), 1));
        if (typeof s.roundTripTime === 'number')
          report.outbound.rttMs = Math.max(report.outbound.rttMs ?? 0, round(s.roundTripTime * 1000, 0));
      }
    });

    const available = publisher && uplinkEstimateBps(publisher);
    if (available !== undefined) report.outbound.uplinkKbps = round(available / 1000);

    const byFeed = new Map<string, MediaReport['inbound'][number]>();
    subscriber?.forEach((s: Stat) => {
      if (s.type !== 'inbound-rtp' || typeof s.mid !== 'string') return;
      const feed = feedOfMid(s.mid);
      if (feed === undefined) return;
      const entry = byFeed.get(feed) ?? { feed: feed.slice(0, 64) };
      byFeed.set(feed, entry);
      const key = `in.${s.id}`;
      const lost = delta(`${key}.lost`, num(s.packetsLost));
      const received = delta(`${key}.received`, num(s.packetsReceived));
      const lossPct = pct(lost, lost + received);
      const jitterMs = round(num(s.jitter) * 1000);
      // The jitter buffer's average wait over the interval: delay and count are both running sums.
      const buffered = delta(`${key}.jbDelay`, num(s.jitterBufferDelay));
      const emitted = delta(`${key}.jbCount`, num(s.jitterBufferEmittedCount));
      const jitterBufferMs = emitted > 0 ? Math.min(600_000, round((buffered / emitted) * 1000)) : 0;
      if (s.kind === 'video') {
        entry.video = {
          width: num(s.frameWidth),
          height: num(s.frameHeight),
          fps: round(num(s.framesPerSecond)),
          lossPct,
          jitterMs,
          freezes: Math.min(10_000, delta(`${key}.freezes`, num(s.freezeCount))),
          jitterBufferMs,
        };
      } else if (s.kind === 'audio') {
        const concealed = delta(`${key}.concealed`, num(s.concealedSamples));
        const total = delta(`${key}.total`, num(s.totalSamplesReceived));
        entry.audio = { lossPct, jitterMs, concealedPct: pct(concealed, total), jitterBufferMs };
      }
    });
    report.inbound = [...byFeed.values()].slice(0, MAX_FEEDS);
    this.last = { at: now, values };
    return report;
  }
}
