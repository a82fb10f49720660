import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { MediaReport, Receiving } from '../../common/media-report.js';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import {
  chooseTeacherLayer,
  pickTeacher,
  planVideos,
  type LayerState,
  type ReceiveSample,
  type SubscribedVideo,
  type TeacherLayer,
  type VideoSetting,
} from '../domain/receive-layers.js';
import { ClockPort } from '../ports/clock.port.js';
import { JanusPort, type SubscribedStream } from '../ports/janus.port.js';
import { KioskPagePort } from '../ports/kiosk-page.port.js';
import { ClassSessionService } from './class-session.service.js';
import { MediaService } from './media.service.js';

/** Samples kept for the layer choice: a minute at the page's 2 s reports, slow links included. */
const HISTORY = 60;

/**
 * What the box receives (issue 16, docs/media.md "Receiving"): carries out `planVideos` — the teacher
 * large at the layer `chooseTeacherLayer` picks from the page's receive statistics and Janus's slow-link
 * reports, a few other centres as small thumbnails, the rest as names with sound — by configuring the
 * subscription in Janus (no renegotiation) and telling the page what each tile shows.
 */
@Injectable()
export class ReceiveService implements OnApplicationBootstrap {
  private readonly log = createLogger(ReceiveService.name);
  private videos: readonly SubscribedVideo[] = [];
  private layer: LayerState = { layer: 'high', since: 0 };
  private history: ReceiveSample[] = [];
  /** What Janus was last told per mid, so only changes are sent. */
  private sent = new Map<string, VideoSetting>();
  private plan: readonly VideoSetting[] = [];
  private chain: Promise<void> = Promise.resolve();
  private wasInClass = false;

  constructor(
    private readonly session: ClassSessionService,
    private readonly janus: JanusPort,
    private readonly page: KioskPagePort,
    private readonly media: MediaService,
    private readonly clock: ClockPort,
  ) {}

  onApplicationBootstrap(): void {
    const owner = ReceiveService.name;
    this.session.subscriptionChanged.on(owner, (streams) => this.onStreams(streams));
    this.session.changed.on(owner, () => {
      const inClass = this.inClass();
      if (inClass && !this.wasInClass) this.reset();
      if (!inClass && this.wasInClass) {
        this.reset();
        this.media.setReceiving(undefined);
      }
      this.wasInClass = inClass;
    });
    this.page.mediaStats.on(owner, (m) => this.onReport(m.report));
    this.janus.mediaEvent.on(owner, (event) => {
      // Janus sending to the box is lossy (the box's receiver asks for many retransmissions): on the
      // teacher's m-lines or one Janus does not name. A thumbnail's video is not the teacher's business.
      if (event.kind !== 'slowlink' || event.target !== 'subscriber' || event.uplink || !this.inClass())
        return;
      if (event.mid !== undefined && this.plan.some((p) => p.mid === event.mid && p.role !== 'teacher'))
        return;
      this.decide({ kind: 'slowLink', at: this.clock.now(), layer: this.layer.layer });
    });
  }

  /** The teacher's layer now (for tests and IT). */
  get teacherLayer(): TeacherLayer {
    return this.layer.layer;
  }

  private reset(): void {
    this.videos = [];
    this.history = [];
    this.sent.clear();
    this.plan = [];
    // A class starts with the largest picture the board decodes steadily; the downlink's statistics take
    // it down if need be.
    this.layer = { layer: this.media.maxTeacherLayer(), since: this.clock.now(), resumed: true };
  }

  private onStreams(streams: readonly SubscribedStream[]): void {
    const teacherBefore = this.plan.find((p) => p.role === 'teacher')?.mid;
    this.videos = streams
      .filter((s) => s.type === 'video')
      .map(({ mid, feed, display }) => ({ mid, feed, display }));
    // The teacher's stream is new (the class began, the teacher joined or came back): its first seconds
    // ramp up and are not judged.
    const teacherNow = pickTeacher(this.videos)?.mid;
    if (teacherNow !== undefined && teacherNow !== teacherBefore)
      this.layer = { layer: this.layer.layer, since: this.clock.now(), resumed: true };
    // Each offer may carry streams Janus starts at its defaults (a new feed, or a new subscription after a
    // rejoin reusing the same mids): the whole plan is sent again, one request per offer.
    this.sent.clear();
    this.apply();
  }

  private onReport(report: MediaReport): void {
    if (!this.inClass()) return;
    const teacher = this.plan.find((p) => p.role === 'teacher');
    const inbound = teacher && report.inbound.find((i) => i.feed === teacher.feed);
    if (!inbound) return;
    const on = this.layer.layer !== 'off';
    const video = inbound.video;
    const audio = inbound.audio;
    this.decide({
      kind: 'stats',
      at: this.clock.now(),
      layer: this.layer.layer,
      lossPct: Math.max(on ? (video?.lossPct ?? 0) : 0, audio?.lossPct ?? 0),
      fps: video?.fps ?? 0,
      freezes: video?.freezes ?? 0,
      jitterBufferMs: (on ? video?.jitterBufferMs : undefined) ?? 0,
    });
  }

  private decide(sample: ReceiveSample): void {
    if (sample.kind === 'stats')
      this.log.debug(
        `Measured the teacher layer=${sample.layer} loss=${sample.lossPct}% fps=${sample.fps} freezes=${sample.freezes} jitterBufferMs=${sample.jitterBufferMs}`,
      );
    this.history.push(sample);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    const decision = chooseTeacherLayer(this.history, this.layer, this.media.maxTeacherLayer());
    if (decision.layer === this.layer.layer) return;
    this.log.info(
      `Changed the teacher's layer from=${this.layer.layer} to=${decision.layer} why="${decision.why}"`,
    );
    this.layer = { layer: decision.layer, since: sample.at, resumed: this.layer.layer === 'off' };
    this.apply();
  }

  /** Bring Janus and the page in line with the plan; Janus's requests one after another. */
  private apply(): void {
    if (!this.inClass()) return;
    const plan = planVideos(this.videos, this.media.maxThumbnails(), this.layer.layer);
    this.plan = plan;
    const changed = plan.filter((p) => JSON.stringify(this.sent.get(p.mid)) !== JSON.stringify(p));
    for (const p of changed) this.sent.set(p.mid, p);
    this.page.send({
      type: 'subscriber.video',
      feeds: plan.map((p) => ({ feed: p.feed, shown: shownOf(p) })),
    });
    const receiving: Receiving[] = plan.map((p) => ({
      feed: p.feed,
      shown: shownOf(p),
      ...(p.send ? { substream: p.substream, temporal: p.temporal } : {}),
    }));
    this.media.setReceiving(receiving);
    if (changed.length === 0) return;
    this.chain = this.chain.then(async () => {
      try {
        await this.janus.configureSubscription(
          changed.map(({ mid, send, substream, temporal }) => ({ mid, send, substream, temporal })),
        );
        this.log.info(
          `Set the subscription's videos ${changed.map((p) => `${p.feed}=${shownOf(p)}${p.send ? `:${p.substream}/${p.temporal}` : ''}`).join(' ')}`,
        );
      } catch (error) {
        // Sent again with the next plan: Janus may not know these mids yet, or the class ended.
        for (const p of changed) if (this.sent.get(p.mid) === p) this.sent.delete(p.mid);
        this.log.warn(`Can't set the subscription's videos: ${reason(error)}`);
      }
    });
  }

  private inClass(): boolean {
    const s = this.session.state.state;
    return s === 'live' || s === 'reconnecting';
  }
}

function shownOf(p: VideoSetting): Receiving['shown'] {
  if (p.role === 'teacher') return p.send ? 'teacher' : 'paused';
  return p.role;
}
