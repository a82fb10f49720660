import type { MediaConstraintsView, MediaProfileView, RTCIceServerLike } from '../../protocol/kiosk-messages';
import type { MediaReport } from '../../../common/media-report';
import {
  answerWithProfile,
  applyPublisherProfile,
  applyVideoLayer,
  sendEncodings,
  type PublisherCaps,
  type VideoLayer,
} from './media-profile';
import { withAudioNack } from './codec-choice';
import { MediaStatsSampler, uplinkEstimateBps } from './media-stats';

type Target = 'publisher' | 'subscriber';
type DeviceState = 'ok' | 'missing' | 'error';

export interface RemoteStreamInfo {
  mid: string;
  feed: string;
  display: string;
  type: string;
}

export interface MediaEvents {
  candidate(target: Target, candidate: RTCIceCandidateInit | null): void;
  connection(target: Target, state: RTCPeerConnectionState): void;
  devices(
    camera: DeviceState,
    microphone: DeviceState,
    labels: { camera?: string; microphone?: string },
  ): void;
  remoteChanged(): void;
}

/** One remote track placed on screen, keyed by the publisher's feed. */
export interface RemoteFeed {
  feed: string;
  display: string;
  stream: MediaStream;
}

/** A publisher prepared while idle: tracks attached, encoder capped, offer set, ICE gathered. */
interface PreparedPublisher {
  readonly pc: RTCPeerConnection;
  readonly stream: MediaStream;
  readonly video: boolean;
  readonly at: number;
}

/** Host candidates may go stale (a new DHCP lease): an idle box prepares its offer afresh this often. */
const PREPARED_MAX_AGE_MS = 4 * 60_000;

/**
 * Camera, microphone and the two peer connections (publish, subscribe). The daemon relays the
 * signalling to Janus; this class only does what a browser must: capture, encode, decode, play.
 *
 * While idle the publisher is prepared ahead (issue 17): the connection with its tracks and
 * bitrate cap, its offer set as local description and its ICE candidates gathered, so a press costs
 * only the trip to Janus. Nothing of it reaches Janus before the press: the daemon is given the
 * offer only when it asks for one, and candidates of a prepared connection are not sent.
 */
export class Media {
  local: MediaStream | undefined;
  private publisher: RTCPeerConnection | undefined;
  private subscriber: RTCPeerConnection | undefined;
  private iceServers: RTCIceServer[] = [];
  private bitrateKbps = 1024;
  private profile: MediaProfileView | undefined;
  private constraints: MediaConstraintsView = { width: 1280, height: 720, fps: 30 };
  private streams = new Map<string, RemoteStreamInfo>();
  readonly remote = new Map<string, RemoteFeed>();
  private videoEnabled = true;
  private muted = false;
  private audioContext: AudioContext | undefined;
  private toneContext: AudioContext | undefined;
  private prepared: PreparedPublisher | undefined;
  private preparing: Promise<void> | undefined;
  /** Bumped whenever a prepared publisher is dropped, so a preparation already under way is not kept. */
  private preparedGeneration = 0;
  private refreshTimer: ReturnType<typeof setInterval> | undefined;
  private analyser: AnalyserNode | undefined;
  /** The audio output the daemon chose (HDMI or USB speaker), for remote sound. */
  speakerId: string | undefined;

  constructor(private readonly events: MediaEvents) {}

  configure(
    media: MediaConstraintsView,
    iceServers: readonly RTCIceServerLike[],
    bitrateKbps: number,
    profile?: MediaProfileView,
  ): void {
    const changed = JSON.stringify(media) !== JSON.stringify(this.constraints);
    this.constraints = media;
    this.profile = profile;
    this.iceServers = iceServers.map((s) => ({
      ...s,
      urls: typeof s.urls === 'string' ? s.urls : [...s.urls],
    }));
    this.bitrateKbps = bitrateKbps;
    // The servers and the cap are part of a prepared connection: prepare it again with these.
    this.dropPrepared();
    if (changed || !this.local) void this.warmUp();
    else this.prepare();
  }

  /** Open camera and microphone now, so a press costs only the negotiation. */
  async warmUp(): Promise<void> {
    // The daemon names the devices it found (by the label Chromium shows); otherwise the defaults.
    const devices = await navigator.mediaDevices.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
    const pick = (kind: MediaDeviceKind, label: string | undefined) =>
      label ? devices.find((d) => d.kind === kind && d.label.includes(label))?.deviceId : undefined;
    const cameraId = pick('videoinput', this.constraints.cameraLabel);
    const microphoneId = pick('audioinput', this.constraints.microphoneLabel);
    this.speakerId = pick('audiooutput', this.constraints.speakerLabel);
    const audio: MediaTrackConstraints = {
      echoCancellation: true,
      noiseSuppression: true,
      autoGainControl: true,
      ...(microphoneId ? { deviceId: { exact: microphoneId } } : {}),
    };
    const video: MediaTrackConstraints = {
      width: { ideal: this.constraints.width },
      height: { ideal: this.constraints.height },
      frameRate: { ideal: this.constraints.fps, max: this.constraints.fps },
      ...(cameraId ? { deviceId: { exact: cameraId } } : {}),
    };
    const old = this.local;
    let stream: MediaStream | undefined;
    let camera: DeviceState = 'ok';
    let microphone: DeviceState = 'ok';
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio, video });
    } catch {
      camera = 'missing';
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio });
      } catch {
        microphone = 'missing';
        try {
          stream = await navigator.mediaDevices.getUserMedia({ video });
          camera = 'ok';
        } catch {
          stream = undefined;
        }
      }
    }
    this.local = stream;
    for (const t of old?.getTracks() ?? []) if (!stream?.getTracks().includes(t)) t.stop();
    this.applyMute();
    this.meter();
    const labels = {
      camera: stream?.getVideoTracks()[0]?.label,
      microphone: stream?.getAudioTracks()[0]?.label,
    };
    this.events.devices(camera, microphone, labels);
    // A class in progress keeps its connection; swap the tracks it sends.
    if (this.publisher) await this.replaceSentTracks();
    else {
      if (this.prepared?.stream !== stream) this.dropPrepared();
      this.prepare();
    }
  }

  /**
   * Prepare the publisher while idle, if it is not already (idempotent; never throws): the page
   * calls it once the camera is open, after a class, and the refresh timer keeps it fresh.
   */
  prepare(): void {
    this.refreshTimer ??= setInterval(() => {
      if (this.prepared && performance.now() - this.prepared.at > PREPARED_MAX_AGE_MS) {
        this.dropPrepared();
        this.prepare();
      }
    }, PREPARED_MAX_AGE_MS / 4);
    if (this.publisher || this.prepared || this.preparing || !this.local) return;
    const stream = this.local;
    const generation = this.preparedGeneration;
    // Still what is wanted once it is ready: the same stream, nothing dropped meanwhile, no class started.
    const current = () => this.local === stream && this.preparedGeneration === generation && !this.publisher;
    let stale = false;
    this.preparing = this.newPublisher(stream, true, stream.getVideoTracks().length > 0)
      .then((pc) => {
        if (!current()) {
          pc.close();
          stale = true;
          return;
        }
        this.prepared = { pc, stream, video: stream.getVideoTracks().length > 0, at: performance.now() };
      })
      .catch((e) => console.warn('prepare publisher', e))
      .finally(() => {
        this.preparing = undefined;
        // The camera was reopened (the page's start and the daemon's config both open it) or the settings
        // changed while this one was being prepared: prepare again for what is in use now, or the box would
        // stay unprepared until its next class.
        if (stale) this.prepare();
      });
  }

  /** For tests and IT diagnostics: is a publisher prepared, and are its candidates gathered? */
  preparedState(): 'none' | 'gathering' | 'ready' {
    if (!this.prepared) return 'none';
    return this.prepared.pc.iceGatheringState === 'complete' ? 'ready' : 'gathering';
  }

  private dropPrepared(): void {
    this.preparedGeneration++;
    this.prepared?.pc.close();
    this.prepared = undefined;
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    this.applyMute();
  }

  private applyMute(): void {
    for (const t of this.local?.getAudioTracks() ?? []) t.enabled = !this.muted;
  }

  /** Microphone level 0..1 (RMS of the last few ms). */
  level(): number {
    if (!this.analyser) return 0;
    const data = new Float32Array(this.analyser.fftSize);
    this.analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (const v of data) sum += v * v;
    return Math.min(1, Math.sqrt(sum / data.length) * 4);
  }

  private meter(): void {
    const track = this.local?.getAudioTracks()[0];
    if (!track) {
      this.analyser = undefined;
      return;
    }
    this.audioContext ??= new AudioContext();
    const source = this.audioContext.createMediaStreamSource(new MediaStream([track]));
    this.analyser = this.audioContext.createAnalyser();
    this.analyser.fftSize = 512;
    source.connect(this.analyser);
  }

  async publisherOffer(audio: boolean, video: boolean, fresh = false): Promise<RTCSessionDescriptionInit> {
    this.closePublisher();
    if (!this.local) await this.warmUp();
    await this.preparing;
    const ready = this.prepared;
    this.prepared = undefined;
    this.videoEnabled = video;
    if (
      ready &&
      !fresh &&
      audio &&
      ready.stream === this.local &&
      ready.video === video &&
      performance.now() - ready.at <= PREPARED_MAX_AGE_MS
    ) {
      this.publisher = ready.pc;
      const gathered = ready.pc.iceGatheringState === 'complete';
      // Its candidates are in the description already; the end of gathering was not sent yet.
      if (gathered)
        setTimeout(() => this.publisher === ready.pc && this.events.candidate('publisher', null), 0);
      return ready.pc.localDescription!.toJSON() as RTCSessionDescriptionInit;
    }
    ready?.pc.close();
    const pc = await this.newPublisher(this.local, audio, video, (created) => (this.publisher = created));
    return pc.localDescription!.toJSON() as RTCSessionDescriptionInit;
  }

  /** A publisher connection with its tracks and encoder cap, its offer set as local description. */
  private async newPublisher(
    local: MediaStream | undefined,
    audio: boolean,
    video: boolean,
    adopt?: (pc: RTCPeerConnection) => void,
  ): Promise<RTCPeerConnection> {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: 'max-bundle' });
    adopt?.(pc);
    this.watch(pc, 'publisher');
    const audioTrack = local?.getAudioTracks()[0];
    const videoTrack = local?.getVideoTracks()[0];
    const audioTransceiver =
      audio && audioTrack
        ? pc.addTransceiver(audioTrack, { direction: 'sendonly', streams: [local!] })
        : pc.addTransceiver('audio', { direction: 'sendonly' });
    // Simulcast layers (the profile's) are fixed when the transceiver is made: their number can't change.
    const caps = this.caps();
    const videoTransceiver =
      video && videoTrack
        ? pc.addTransceiver(videoTrack, {
            direction: 'sendonly',
            streams: [local!],
            sendEncodings: sendEncodings(caps),
          })
        : pc.addTransceiver('video', { direction: 'sendonly', sendEncodings: sendEncodings(caps) });
    // Codec, size and rate caps (as well as Janus's REMB, so a weak uplink is never flooded), sound first.
    await applyPublisherProfile(audioTransceiver, videoTransceiver, caps);
    const offer = await pc.createOffer();
    await pc.setLocalDescription({ type: offer.type, sdp: offer.sdp && withAudioNack(offer.sdp) });
    return pc;
  }

  private caps(): PublisherCaps {
    return { profile: this.profile, videoKbps: this.bitrateKbps, fps: this.constraints.fps };
  }

  /** A candidate Janus trickled (full_trickle); one that comes before its description waits for it. */
  async remoteCandidate(target: Target, candidate: RTCIceCandidateInit | null): Promise<void> {
    const pc = target === 'publisher' ? this.publisher : this.subscriber;
    if (!pc) return;
    if (!pc.remoteDescription) {
      const pending = target === 'publisher' ? this.pendingPublisher : this.pendingSubscriber;
      pending.push(candidate);
      return;
    }
    await pc.addIceCandidate(candidate ?? undefined).catch((e) => console.warn('remote candidate', e));
  }

  private pendingPublisher: (RTCIceCandidateInit | null)[] = [];
  private pendingSubscriber: (RTCIceCandidateInit | null)[] = [];

  private async flushCandidates(target: Target): Promise<void> {
    const pending = target === 'publisher' ? this.pendingPublisher : this.pendingSubscriber;
    const list = pending.splice(0);
    for (const c of list) await this.remoteCandidate(target, c);
  }

  async publisherAnswer(answer: RTCSessionDescriptionInit): Promise<void> {
    await this.publisher?.setRemoteDescription({
      type: answer.type,
      sdp: answer.sdp && answerWithProfile(answer.sdp, this.profile),
    });
    await this.flushCandidates('publisher');
  }

  /**
   * Stop or resume sending video (camera unplugged, slow uplink); audio goes on. A try at video after
   * sound only comes as the `low` layer (a small picture) until the daemon sees the link carry it.
   */
  async setVideo(enabled: boolean, layer: VideoLayer = 'full'): Promise<void> {
    this.videoEnabled = enabled;
    if (enabled && !this.local?.getVideoTracks().some((t) => t.readyState === 'live')) await this.warmUp();
    const video = this.publisher?.getTransceivers().find((t) => t.receiver.track.kind === 'video');
    if (video && enabled) await applyVideoLayer(video.sender, this.caps(), layer);
    await this.replaceSentTracks();
  }

  private async replaceSentTracks(): Promise<void> {
    const pc = this.publisher;
    if (!pc) return;
    for (const transceiver of pc.getTransceivers()) {
      const kind = transceiver.receiver.track.kind;
      const track =
        kind === 'audio'
          ? this.local?.getAudioTracks()[0]
          : this.videoEnabled
            ? this.local?.getVideoTracks()[0]
            : undefined;
      await transceiver.sender.replaceTrack(track ?? null).catch(() => undefined);
    }
  }

  setStreams(streams: readonly RemoteStreamInfo[]): void {
    this.streams = new Map(streams.map((s) => [s.mid, s]));
  }

  private subscriberQueue: Promise<unknown> = Promise.resolve();

  /** Answer Janus's subscription offers one at a time, in the order they came. */
  subscriberAnswer(offer: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit> {
    const next = this.subscriberQueue.then(() => this.answerNow(offer));
    this.subscriberQueue = next.catch(() => undefined);
    return next;
  }

  private async answerNow(offer: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit> {
    if (!this.subscriber) {
      const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: 'max-bundle' });
      this.subscriber = pc;
      this.watch(pc, 'subscriber');
      pc.ontrack = (event) => this.onTrack(event);
    }
    const pc = this.subscriber;
    await pc.setRemoteDescription(offer);
    await this.flushCandidates('subscriber');
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.pruneRemote();
    return pc.localDescription!.toJSON() as RTCSessionDescriptionInit;
  }

  private onTrack(event: RTCTrackEvent): void {
    const mid = event.transceiver.mid ?? '';
    const info = this.streams.get(mid);
    const feed = info?.feed ?? `mid-${mid}`;
    let entry = this.remote.get(feed);
    if (!entry) {
      entry = { feed, display: info?.display ?? feed, stream: new MediaStream() };
      this.remote.set(feed, entry);
    }
    for (const old of entry.stream.getTracks().filter((t) => t.kind === event.track.kind))
      entry.stream.removeTrack(old);
    entry.stream.addTrack(event.track);
    event.track.onended = () => this.pruneRemote();
    this.events.remoteChanged();
  }

  /** Forget feeds whose streams Janus no longer sends. */
  private pruneRemote(): void {
    const live = new Set([...this.streams.values()].map((s) => s.feed));
    let changed = false;
    for (const feed of [...this.remote.keys()]) {
      if (!live.has(feed)) {
        this.remote.delete(feed);
        changed = true;
      }
    }
    for (const s of this.streams.values()) {
      const entry = this.remote.get(s.feed);
      if (entry && entry.display !== s.display) {
        entry.display = s.display;
        changed = true;
      }
    }
    if (changed) this.events.remoteChanged();
  }

  private watch(pc: RTCPeerConnection, target: Target): void {
    pc.onicecandidate = (event) => {
      if (pc !== (target === 'publisher' ? this.publisher : this.subscriber)) return;
      this.events.candidate(target, event.candidate ? event.candidate.toJSON() : null);
    };
    pc.onconnectionstatechange = () => {
      if (pc !== (target === 'publisher' ? this.publisher : this.subscriber)) return;
      this.events.connection(target, pc.connectionState);
    };
  }

  closePublisher(): void {
    this.pendingPublisher = [];
    this.publisher?.close();
    this.publisher = undefined;
  }

  /**
   * After a class, or when the daemon is back in touch with Janus after a loss: close any publisher
   * and prepare the next one afresh (its candidates gathered on the network as it is now).
   */
  closePublisherAndPrepare(): void {
    this.closePublisher();
    this.dropPrepared();
    this.prepare();
  }

  /** Keep only the feeds still publishing in the room (a left publisher's tile goes at once). */
  keepFeeds(feeds: readonly { feed: string }[]): void {
    const live = new Set(feeds.map((f) => f.feed));
    let changed = false;
    for (const feed of [...this.remote.keys()]) {
      if (!live.has(feed)) {
        this.remote.delete(feed);
        changed = true;
      }
    }
    if (changed) this.events.remoteChanged();
  }

  closeSubscriber(): void {
    this.pendingSubscriber = [];
    this.subscriber?.close();
    this.subscriber = undefined;
    this.streams.clear();
    if (this.remote.size > 0) {
      this.remote.clear();
      this.events.remoteChanged();
    }
  }

  /** Outgoing kbit/s since the last call and frames decoded of all remote video, for the daemon. */
  private lastSent = { at: 0, videoBytes: 0, audioBytes: 0 };
  async stats(): Promise<
    | {
        videoKbps: number;
        audioKbps: number;
        framesDecoded: number;
        qualityLimitation?: string;
        availableOutgoingKbps?: number;
      }
    | undefined
  > {
    if (!this.publisher) return undefined;
    let videoBytes = 0;
    let audioBytes = 0;
    let qualityLimitation: string | undefined;
    const report = await this.publisher.getStats();
    // The congestion controller's estimate of the uplink, on the pair in use: the fallback's signal when
    // the encoder names another reason than the link, e.g. a starved CPU (linkLimitsVideo).
    const available = uplinkEstimateBps(report);
    report.forEach((r: RTCStats & Record<string, unknown>) => {
      if (r.type !== 'outbound-rtp') return;
      if (r.kind === 'video') {
        videoBytes += Number(r.bytesSent ?? 0);
        // One entry per simulcast layer: bandwidth limiting any of them is what the fallback must know.
        const reason = String(r.qualityLimitationReason ?? '');
        if (reason && qualityLimitation !== 'bandwidth') qualityLimitation = reason;
      } else if (r.kind === 'audio') audioBytes += Number(r.bytesSent ?? 0);
    });
    let framesDecoded = 0;
    if (this.subscriber) {
      (await this.subscriber.getStats()).forEach((r: RTCStats & Record<string, unknown>) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') framesDecoded += Number(r.framesDecoded ?? 0);
      });
    }
    const now = performance.now();
    const seconds = this.lastSent.at ? (now - this.lastSent.at) / 1000 : 0;
    const result = {
      videoKbps:
        seconds > 0 ? Math.max(0, ((videoBytes - this.lastSent.videoBytes) * 8) / 1000 / seconds) : 0,
      audioKbps:
        seconds > 0 ? Math.max(0, ((audioBytes - this.lastSent.audioBytes) * 8) / 1000 / seconds) : 0,
      framesDecoded,
      qualityLimitation: qualityLimitation || undefined,
      ...(available !== undefined ? { availableOutgoingKbps: available / 1000 } : {}),
    };
    this.lastSent = { at: now, videoBytes, audioBytes };
    return result;
  }

  private readonly sampler = new MediaStatsSampler();

  /** The page's own statistics for the daemon (issue 16); undefined outside a class. */
  async mediaReport(): Promise<MediaReport | undefined> {
    const [publisher, subscriber] = await Promise.all([
      this.publisher?.getStats(),
      this.subscriber?.getStats(),
    ]);
    return this.sampler.sample(
      publisher,
      subscriber,
      (mid) => this.streams.get(mid)?.feed,
      performance.now(),
    );
  }

  snapshot(video: HTMLVideoElement): string {
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth || this.constraints.width;
    canvas.height = video.videoHeight || this.constraints.height;
    canvas.getContext('2d')!.drawImage(video, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL('image/jpeg', 0.85);
  }

  async tone(hz: number, ms: number): Promise<void> {
    // A context of its own, sent to the speaker the daemon chose (the classroom TV over HDMI or a USB
    // speaker), as remote sound is: the default output may be another device (issue 12).
    this.toneContext ??= new AudioContext();
    const ctx = this.toneContext as AudioContext & {
      sinkId?: string;
      setSinkId?: (id: string) => Promise<void>;
    };
    // Looked up now, not only at warm-up: the speaker may have been plugged in since.
    const label = this.constraints.speakerLabel;
    if (label) {
      const devices = await navigator.mediaDevices.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
      this.speakerId =
        devices.find((d) => d.kind === 'audiooutput' && d.label.includes(label))?.deviceId ?? this.speakerId;
    }
    if (this.speakerId && ctx.setSinkId && ctx.sinkId !== this.speakerId) await ctx.setSinkId(this.speakerId);
    await ctx.resume();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = hz;
    gain.gain.value = 0.2;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    await new Promise((r) => setTimeout(r, ms));
    osc.stop();
  }
}
