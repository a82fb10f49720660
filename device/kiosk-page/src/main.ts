import type { DaemonMessage, ScreenState } from '../../protocol/kiosk-messages';
import { DaemonChannel } from './channel';
import { Media, type RemoteFeed } from './media';
import { ReplayPlayer } from './replay';
import { Screen } from './screen';

const HEARTBEAT_MS = 2000;
const STATS_MS = 2000;
const MEDIA_REPORT_MS = 1000;
/**
 * The page's own media statistics (issue 16): the daemon picks the teacher's layer from them, so they
 * come often enough to leave a bad layer within seconds (docs/media.md); two getStats() calls are cheap.
 */
const MEDIA_STATS_MS = 2000;

const channel = new DaemonChannel(`ws://${location.host}/ws`);
const screen = new Screen();
const replay = new ReplayPlayer((message) => channel.send(message));
let current: ScreenState | undefined;
let deviceReport = {
  camera: 'missing' as string,
  microphone: 'missing' as string,
  labels: {} as { camera?: string; microphone?: string },
};

const selfVideo = document.getElementById('self-video') as HTMLVideoElement;

const media = new Media({
  candidate: (target, candidate) => channel.send({ type: 'candidate', target, candidate }),
  connection: (target, state) => channel.send({ type: 'connection', target, state }),
  devices: (camera, microphone, labels) => {
    deviceReport = { camera, microphone, labels };
    selfVideo.srcObject = media.local ?? null;
    reportMedia();
  },
  remoteChanged: () => screen.layout([...media.remote.values()], attach),
});

/** What the daemon receives of each feed (the decode cap, the teacher's picture paused). */
let shown = new Map<string, 'teacher' | 'thumbnail' | 'name' | 'paused'>();

function attach(video: HTMLVideoElement, feed: RemoteFeed): void {
  video.srcObject = feed.stream;
  const sink = media.speakerId;
  const withSink = video as HTMLVideoElement & { setSinkId?: (id: string) => Promise<void> };
  if (sink && withSink.setSinkId) void withSink.setSinkId(sink).catch(() => undefined);
  void video.play().catch(() => undefined);
}

/** The loudest level since the last report: speech and beeps are short, a single sample would miss them. */
let peakLevel = 0;

function reportMedia(): void {
  channel.send({
    type: 'media',
    camera: deviceReport.camera,
    microphone: deviceReport.microphone,
    cameraLabel: deviceReport.labels.camera?.slice(0, 200),
    microphoneLabel: deviceReport.labels.microphone?.slice(0, 200),
    level: Math.round(peakLevel * 1000) / 1000,
  });
  peakLevel = 0;
}

async function onRequest(message: Extract<DaemonMessage, { type: 'request' }>): Promise<void> {
  try {
    switch (message.action) {
      case 'publisher.offer': {
        const jsep = await media.publisherOffer(message.audio, message.video, message.fresh === true);
        channel.send({ type: 'reply', id: message.id, ok: true, jsep: { type: jsep.type, sdp: jsep.sdp } });
        return;
      }
      case 'subscriber.answer': {
        const jsep = await media.subscriberAnswer(message.offer);
        channel.send({ type: 'reply', id: message.id, ok: true, jsep: { type: jsep.type, sdp: jsep.sdp } });
        return;
      }
      case 'camera.snapshot':
        channel.send({ type: 'reply', id: message.id, ok: true, image: media.snapshot(selfVideo) });
        return;
      case 'speaker.tone':
        await media.tone(message.hz, message.ms);
        channel.send({ type: 'reply', id: message.id, ok: true });
        return;
    }
  } catch (error) {
    channel.send({
      type: 'reply',
      id: message.id,
      ok: false,
      error: String((error as Error)?.message ?? error).slice(0, 500),
    });
  }
}

channel.onMessage = (message) => {
  switch (message.type) {
    case 'screen':
      current = message.screen;
      screen.render(current, true);
      replay.update(current.catchup);
      screen.layout([...media.remote.values()], attach);
      return;
    case 'subscriber.video':
      shown = new Map(message.feeds.map((f) => [f.feed, f.shown]));
      screen.setShown(shown);
      screen.layout([...media.remote.values()], attach);
      return;
    case 'config':
      media.configure(message.media, message.iceServers, message.bitrateKbps, message.profile);
      return;
    case 'request':
      void onRequest(message);
      return;
    case 'publisher.answer':
      void media.publisherAnswer(message.jsep).catch((e) => console.error('publisher answer', e));
      return;
    case 'publisher.video':
      void media.setVideo(message.enabled, message.layer ?? 'full');
      return;
    case 'publisher.close':
      media.closePublisherAndPrepare();
      return;
    case 'subscriber.streams':
      media.setStreams(message.streams);
      return;
    case 'subscriber.feeds':
      media.keepFeeds(message.feeds);
      return;
    case 'subscriber.close':
      shown = new Map();
      screen.setShown(shown);
      media.closeSubscriber();
      return;
    case 'mute':
      media.setMuted(message.muted);
      return;
    case 'candidate':
      void media.remoteCandidate(message.target, message.candidate);
      return;
  }
};
channel.onOpen = () => reportMedia();
channel.onClose = () => screen.render(current, false);

function tickClock(): void {
  const now = new Date();
  const date = document.createElement('small');
  date.textContent = now.toLocaleDateString('zh-CN', { month: 'long', day: 'numeric', weekday: 'short' });
  const time = now.toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit', hour12: false });
  (document.getElementById('clock') as HTMLElement).replaceChildren(date, time);
}

setInterval(tickClock, 1000);
tickClock();
setInterval(() => channel.send({ type: 'heartbeat', at: Date.now() }), HEARTBEAT_MS);
setInterval(reportMedia, MEDIA_REPORT_MS);
const meterBar = document.getElementById('meter-bar') as HTMLElement;
let meterShown = -1;
setInterval(() => {
  const level = media.level();
  peakLevel = Math.max(peakLevel, level);
  // Written only when it moves: a silent room costs the page nothing.
  const shownLevel = Math.round(level * 100);
  if (shownLevel === meterShown) return;
  meterShown = shownLevel;
  meterBar.style.transform = `scaleY(${shownLevel / 100})`;
}, 50);
setInterval(() => {
  void media.stats().then((s) => s && channel.send({ type: 'stats', ...s }));
}, STATS_MS);
setInterval(() => {
  void media
    .mediaReport()
    .then((report) => report && channel.send({ type: 'media.stats', report }))
    .catch((e) => console.warn('media stats', e));
}, MEDIA_STATS_MS);

/**
 * Screen blanking off while the page shows (issue 12): Chromium turns a screen wake lock into Wayland's idle
 * inhibitor, so neither labwc nor a later idle daemon blanks the TV mid-class. The lock drops when the page
 * is hidden and is taken again when it shows.
 */
async function keepScreenOn(): Promise<void> {
  await navigator.wakeLock?.request('screen').catch(() => undefined);
}
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void keepScreenOn();
});

screen.render(undefined, false);
void keepScreenOn();
void media.warmUp();
channel.start();

/** For tests and IT diagnostics: what the page actually decodes and plays. */
declare global {
  interface Window {
    classbox: unknown;
  }
}
window.classbox = {
  state: () => current?.state,
  remote: () =>
    [...document.querySelectorAll<HTMLVideoElement>('#stage video')]
      .filter((v) => v.srcObject instanceof MediaStream && !v.closest('.hidden'))
      .map((v) => ({
        display: v.parentElement?.querySelector('.label')?.textContent ?? '',
        framesDecoded: v.getVideoPlaybackQuality().totalVideoFrames,
        width: v.videoWidth,
        height: v.videoHeight,
        audioTracks: (v.srcObject as MediaStream).getAudioTracks().length,
        /** teacher, thumbnail, name (a name tile: no video decoded) or paused (the teacher's, link bad). */
        shown: (v.parentElement as HTMLElement).dataset.shown ?? 'teacher',
      })),
  selfFrames: () => selfVideo.getVideoPlaybackQuality().totalVideoFrames,
  prepared: () => media.preparedState(),
};
