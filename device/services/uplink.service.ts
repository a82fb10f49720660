import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createLogger } from '../../common/logger.js';
import { Signal } from '../../common/signal.js';
import { AudioOnlyPolicy, linkLimitsVideo } from '../domain/audio-only.policy.js';
import { KioskPagePort } from '../ports/kiosk-page.port.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import { JanusPort } from '../ports/janus.port.js';
import { ClassSessionService } from './class-session.service.js';
import { ConfigService } from './config.service.js';
import { HealthService } from './health.service.js';

const SAMPLES = 3;
const GRACE_MS = 8000;
const MAX_PROBE_MS = 60_000;

/**
 * Decides whether the box sends video: not while the camera is missing, not while the uplink
 * can't carry it (then sound only, with a try at video now and then). Tells the page.
 */
@Injectable()
export class UplinkService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger(UplinkService.name);
  private policy: AudioOnlyPolicy;
  private sentVideo: boolean | undefined;
  /** A try at video is sent as a small picture first ('low'), the full one once the link carries it. */
  private sentLayer: 'low' | 'full' | undefined;
  private lastKbps: number | undefined;
  private timer: TimerHandle | undefined;
  private wasInClass = false;
  readonly changed = new Signal<void>('uplink.changed');

  constructor(
    private readonly page: KioskPagePort,
    private readonly janus: JanusPort,
    private readonly session: ClassSessionService,
    private readonly health: HealthService,
    private readonly config: ConfigService,
    private readonly clock: ClockPort,
  ) {
    this.policy = this.newPolicy();
  }

  onApplicationBootstrap(): void {
    const owner = UplinkService.name;
    this.page.stats.on(owner, (s) => {
      this.lastKbps = Math.round(s.videoKbps + s.audioKbps);
      if (!this.judging()) return;
      const before = this.policy.mode;
      const changed = this.policy.sample({
        at: this.clock.now(),
        videoKbps: s.videoKbps,
        bandwidthLimited: linkLimitsVideo(s, this.config.current.network.minVideoKbps),
      });
      if (changed) this.apply('the uplink cannot carry video');
      else if (before === 'probing' && this.policy.mode === 'video')
        this.apply('the small picture got through');
      else if (this.policy.mode === 'video' && this.sentVideo === false && this.cameraOk())
        this.apply('video is back');
    });
    this.janus.mediaEvent.on(owner, (event) => {
      if (event.kind === 'slowlink' && event.target === 'publisher' && event.uplink && this.judging()) {
        if (this.policy.slowLink(this.clock.now())) this.apply('Janus reports a slow uplink');
      }
    });
    this.session.changed.on(owner, () => {
      const inClass = this.inClass();
      if (inClass && !this.wasInClass) {
        this.policy = this.newPolicy();
        this.policy.reset(this.clock.now());
        this.sentVideo = undefined;
        this.sentLayer = undefined;
      }
      this.wasInClass = inClass;
      // Each new publisher connection starts with video; tell the page what we want.
      if (this.session.state.state === 'live') this.apply();
    });
    this.health.changed.on(owner, () =>
      this.apply(this.cameraOk() ? 'the camera is back' : 'the camera is missing'),
    );
    this.timer = this.clock.setInterval(() => {
      if (this.judging() && this.policy.tick(this.clock.now())) this.apply('trying video again');
    }, 1000);
  }

  onApplicationShutdown(): void {
    this.clock.clearInterval(this.timer);
  }

  /** In class and sending sound only, for whatever reason. */
  get audioOnly(): boolean {
    return this.inClass() && !this.videoWanted();
  }

  /** Why the box sends sound only: no camera, or an uplink that can't carry video. */
  get audioOnlyReason(): 'camera' | 'uplink' | undefined {
    if (!this.audioOnly) return undefined;
    return this.cameraOk() ? 'uplink' : 'camera';
  }

  get uplinkKbps(): number | undefined {
    return this.inClass() ? this.lastKbps : undefined;
  }

  /** Whether a new publisher offer should carry video. */
  videoWanted(): boolean {
    return this.cameraOk() && this.policy.videoWanted;
  }

  private apply(why?: string): void {
    if (!this.inClass()) return;
    const wanted = this.videoWanted();
    const layer = this.policy.mode === 'probing' ? 'low' : 'full';
    if (wanted === this.sentVideo && (!wanted || layer === this.sentLayer)) return;
    const resumed = wanted && this.sentVideo !== true;
    this.sentVideo = wanted;
    this.sentLayer = wanted ? layer : undefined;
    this.page.send({
      type: 'publisher.video',
      enabled: wanted,
      ...(wanted && layer === 'low' ? { layer } : {}),
    });
    this.log.info(
      `${resumed ? 'Resumed' : wanted ? 'Enlarged' : 'Stopped'} sending video mode=${this.policy.mode} layer=${wanted ? layer : '-'}${why ? ` why="${why}"` : ''}`,
    );
    this.changed.emit();
  }

  private judging(): boolean {
    return this.session.state.state === 'live' && this.config.current.network.audioOnlyFallback;
  }

  private inClass(): boolean {
    const s = this.session.state.state;
    return s === 'live' || s === 'reconnecting';
  }

  private cameraOk(): boolean {
    return this.health.get('camera').status === 'ok';
  }

  private newPolicy(): AudioOnlyPolicy {
    const { minVideoKbps, probeSeconds } = this.config.current.network;
    return new AudioOnlyPolicy({
      minVideoKbps,
      samples: SAMPLES,
      firstProbeMs: probeSeconds * 1000,
      graceMs: GRACE_MS,
      // Each failed try doubles the wait, up to a minute. Trying every few seconds without backing off
      // kept a link below the small picture's rate congested half the time, and the sound with it (the
      // teacher heard nothing for 20 s on a 150 kbit/s uplink in CI): sound is never what is given up for
      // video. A minute still brings video back far sooner than the 90 s of the issue (16).
      maxProbeMs: Math.max(probeSeconds * 1000, MAX_PROBE_MS),
    });
  }
}
