/**
 * What the box receives of each other publisher (issue 16, docs/media.md "Receiving"): the teacher large,
 * at the simulcast layer the box's downlink carries; other centres small, at their lowest layer, and only
 * a few of them decoded at once (a Pi 4 decodes in software); the rest shown as names with their sound.
 * Janus does no bandwidth estimation for subscribers, so the teacher's layer is chosen here from the
 * page's own receive statistics and Janus's `slow_link` events: down at once, up slowly. Pure: no I/O,
 * no clock.
 */

/** The teacher is the publisher whose name says so; otherwise the first to arrive. */
export function pickTeacher<F extends { readonly display: string }>(feeds: readonly F[]): F | undefined {
  return feeds.find((f) => /老师|教师|主讲|teacher/i.test(f.display)) ?? feeds[0];
}

/**
 * The teacher's picture, from none to the full one. `off` leaves the teacher's sound only; `low`, `mid`
 * and `high` are Janus's substreams 0, 1 and 2 (a publisher with fewer layers sends its highest instead).
 */
export const TEACHER_LAYERS = ['off', 'low', 'mid', 'high'] as const;
export type TeacherLayer = (typeof TEACHER_LAYERS)[number];
/** The teacher's picture layers, without sound only: what a profile or the config may name as the top. */
export const PICTURE_LAYERS = ['low', 'mid', 'high'] as const;
export type PictureLayer = (typeof PICTURE_LAYERS)[number];

export type Substream = 0 | 1 | 2;

/** How one video m-line of the subscription is relayed: Janus's subscriber `configure` for that mid. */
export interface VideoSetting {
  readonly mid: string;
  readonly feed: string;
  readonly role: 'teacher' | 'thumbnail' | 'name';
  /** Relayed at all: a name tile's video is not, so nothing is decoded for it. */
  readonly send: boolean;
  readonly substream: Substream;
  /** Temporal layers: 0 the base (a quarter of the frame rate), 2 all of them. */
  readonly temporal: Substream;
}

/**
 * A thumbnail is the publisher's smallest layer (a quarter of the full size or less) at half its frame
 * rate: the box decodes a fraction of what a full picture costs, and a face in a corner needs no more.
 */
export const THUMBNAIL_LAYER = { substream: 0, temporal: 1 } as const;

const TEACHER_SUBSTREAM: Record<PictureLayer, Substream> = { low: 0, mid: 1, high: 2 };

export interface SubscribedVideo {
  readonly mid: string;
  readonly feed: string;
  readonly display: string;
}

/**
 * The setting of every video m-line: the teacher at `teacherLayer`; the first `maxThumbnails` other
 * centres (in the order Janus lists them, so a tile does not jump when another centre joins) small; the
 * others not relayed. Audio m-lines are not touched: every centre stays heard.
 */
export function planVideos(
  videos: readonly SubscribedVideo[],
  maxThumbnails: number,
  teacherLayer: TeacherLayer,
): VideoSetting[] {
  const teacher = pickTeacher(videos);
  let thumbnails = 0;
  return videos.map((v): VideoSetting => {
    if (v.feed === teacher?.feed) {
      return teacherLayer === 'off'
        ? { mid: v.mid, feed: v.feed, role: 'teacher', send: false, substream: 0, temporal: 0 }
        : {
            mid: v.mid,
            feed: v.feed,
            role: 'teacher',
            send: true,
            substream: TEACHER_SUBSTREAM[teacherLayer],
            temporal: 2,
          };
    }
    if (thumbnails < maxThumbnails) {
      thumbnails++;
      return { mid: v.mid, feed: v.feed, role: 'thumbnail', send: true, ...THUMBNAIL_LAYER };
    }
    return { mid: v.mid, feed: v.feed, role: 'name', send: false, ...THUMBNAIL_LAYER };
  });
}

/** What the box measured of the teacher over one report interval, or a `slow_link` from Janus. */
export type ReceiveSample =
  | {
      readonly kind: 'stats';
      readonly at: number;
      /** The teacher layer in effect while this was measured. */
      readonly layer: TeacherLayer;
      /** Packets lost of the teacher's video, or of the teacher's sound while the video is off. */
      readonly lossPct: number;
      /** Decoded frame rate (ignored while the video is off). */
      readonly fps: number;
      /** Freezes the page saw in the interval (WebRTC `freezeCount`). */
      readonly freezes: number;
      /** Average time a frame waited in the jitter buffer, ms (ignored while the video is off). */
      readonly jitterBufferMs: number;
    }
  | { readonly kind: 'slowLink'; readonly at: number; readonly layer: TeacherLayer };

export interface LayerOptions {
  /** After a change, samples are ignored this long: they still measure the layer before it. */
  readonly graceMs: number;
  /**
   * After the teacher's video (re)starts — a new stream, or back from sound only — samples are ignored
   * this long: the decoder waits for a key frame and its frame rate ramps up, which says nothing of the link.
   */
  readonly resumeGraceMs: number;
  /** Clean samples in a row at a layer before stepping up from it. */
  readonly upSamples: number;
  /** Clean samples of the teacher's sound in a row before trying the video again, at the low layer. */
  readonly probeSamples: number;
  /**
   * A layer that failed this recently needs twice the clean samples before it is tried again (the probe
   * from sound only one sample more).
   */
  readonly memoryMs: number;
  readonly badLossPct: number;
  /** Loss this high drops two layers at once (to sound only from `mid`). */
  readonly severeLossPct: number;
  readonly goodLossPct: number;
  /** Below this frame rate the picture is a slideshow: step down. */
  readonly minFps: number;
  readonly badFreezes: number;
  /**
   * A video jitter buffer this long is a stall. Chromium holds video back to stay in sync with the sound,
   * whose buffer runs at 300–800 ms on a busy box, so a lower bound would call a clean link bad.
   */
  readonly maxJitterBufferMs: number;
}

/**
 * Sampled every 2 s: a bad link is left within one sample; a layer up needs 8 s of clean samples, the
 * first picture after sound only 4 s of clean sound, so video is back well within 10 s of the link.
 */
export const DEFAULT_LAYER_OPTIONS: LayerOptions = {
  graceMs: 3000,
  resumeGraceMs: 6000,
  upSamples: 4,
  probeSamples: 2,
  memoryMs: 30_000,
  badLossPct: 5,
  severeLossPct: 20,
  goodLossPct: 2,
  minFps: 8,
  badFreezes: 2,
  maxJitterBufferMs: 1000,
};

/** The layer in effect, since when, and whether the teacher's video (re)started then. */
export interface LayerState {
  readonly layer: TeacherLayer;
  readonly since: number;
  readonly resumed?: boolean;
}

export interface LayerDecision {
  readonly layer: TeacherLayer;
  /** Why it changed, for the log; undefined when it did not. */
  readonly why?: string;
}

/**
 * `bad` is the link (loss, a slow link); `stutter` is a picture that stutters without loss — the box's or
 * the sender's CPU as often as the link — which a smaller layer helps but sound only does not.
 */
type Verdict = 'good' | 'bad' | 'severe' | 'stutter' | 'neutral';

function judge(s: ReceiveSample, o: LayerOptions): Verdict {
  if (s.kind === 'slowLink') return 'bad';
  if (s.lossPct >= o.severeLossPct) return 'severe';
  if (s.lossPct >= o.badLossPct) return 'bad';
  // With the video off only the sound's loss says anything of the link: its jitter buffer (NetEq) runs
  // long on a busy box after a lossy stretch and shrinks only slowly, whatever the link does now.
  if (
    s.layer !== 'off' &&
    (s.fps < o.minFps || s.freezes >= o.badFreezes || s.jitterBufferMs > o.maxJitterBufferMs)
  )
    return 'stutter';
  if (s.lossPct <= o.goodLossPct) return 'good';
  return 'neutral';
}

const step = (layer: TeacherLayer, by: number): TeacherLayer =>
  TEACHER_LAYERS[Math.max(0, Math.min(TEACHER_LAYERS.length - 1, TEACHER_LAYERS.indexOf(layer) + by))]!;

/**
 * The teacher's layer from the history of samples (oldest first) and the layer in effect since `since`.
 * Down quickly: the latest settled sample at this layer being bad steps down one layer (two on severe
 * loss; a stutter without loss no lower than `low`). Up slowly: `upSamples` clean samples in a row (from sound only: `probeSamples`), twice as many
 * (a probe: one more) when the layer above failed within `memoryMs` — so a link on the edge does not flap.
 * Never above `top`, the largest layer the board decodes steadily (the media profile's `maxTeacherLayer`).
 */
export function chooseTeacherLayer(
  history: readonly ReceiveSample[],
  current: LayerState,
  top: PictureLayer = 'high',
  options: LayerOptions = DEFAULT_LAYER_OPTIONS,
): LayerDecision {
  // A layer above the top (the config changed the profile mid-class) goes down to it at once.
  if (TEACHER_LAYERS.indexOf(current.layer) > TEACHER_LAYERS.indexOf(top))
    return { layer: top, why: `down: ${top} is the largest layer this board decodes steadily` };
  const grace = current.resumed ? options.resumeGraceMs : options.graceMs;
  const settled = history.filter((s) => s.layer === current.layer && s.at >= current.since + grace);
  const last = settled.at(-1);
  if (!last) return { layer: current.layer };
  const verdict = judge(last, options);
  if (verdict === 'bad' || verdict === 'severe' || verdict === 'stutter') {
    let next = step(current.layer, verdict === 'severe' ? -2 : -1);
    // A stutter without loss never costs the teacher's picture: the low layer is cheap to decode.
    if (verdict === 'stutter' && next === 'off') next = 'low';
    if (next === current.layer) return { layer: current.layer };
    const what =
      last.kind === 'slowLink'
        ? 'Janus reports a slow link'
        : `loss=${last.lossPct}% fps=${last.fps} freezes=${last.freezes} jitterBufferMs=${last.jitterBufferMs}`;
    return { layer: next, why: `down: ${what}` };
  }
  if (current.layer === top) return { layer: current.layer };
  let streak = 0;
  for (let i = settled.length - 1; i >= 0 && judge(settled[i]!, options) === 'good'; i--) streak++;
  const above = step(current.layer, 1);
  const failedRecently = history.some(
    (s) =>
      s.layer === above &&
      s.at >= last.at - options.memoryMs &&
      ['bad', 'severe', 'stutter'].includes(judge(s, options)),
  );
  // A probe after sound only waits one sample more after a failure, not twice as long: the clean sound
  // already says the link is back, and video must be back within 10 s of it (issue 16).
  const needed =
    current.layer === 'off'
      ? options.probeSamples + (failedRecently ? 1 : 0)
      : options.upSamples * (failedRecently ? 2 : 1);
  if (streak < needed) return { layer: current.layer };
  return {
    layer: above,
    why: `up: ${streak} clean samples at ${current.layer}${current.layer === 'off' ? ' (probe at the low layer first)' : ''}`,
  };
}
