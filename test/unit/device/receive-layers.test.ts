import { describe, expect, it } from 'vitest';
import {
  chooseTeacherLayer,
  planVideos,
  type LayerState,
  type ReceiveSample,
  type TeacherLayer,
} from '../../../device/domain/receive-layers.js';

type Stats = Extract<ReceiveSample, { kind: 'stats' }>;

const clean = (at: number, layer: TeacherLayer): Stats => ({
  kind: 'stats',
  at,
  layer,
  lossPct: 0,
  fps: 24,
  freezes: 0,
  jitterBufferMs: 60,
});
const lossy = (at: number, layer: TeacherLayer, lossPct = 8): Stats => ({
  kind: 'stats',
  at,
  layer,
  lossPct,
  fps: 24,
  freezes: 0,
  jitterBufferMs: 60,
});

/**
 * Run the policy as the service does: each sample is added to the history, and a change of layer takes
 * effect at that sample's time. `link(at, layer)` says what the link does to a sample at that layer.
 */
function run(
  start: TeacherLayer,
  times: readonly number[],
  link: (at: number, layer: TeacherLayer) => ReceiveSample,
): { at: number; layer: TeacherLayer }[] {
  const history: ReceiveSample[] = [];
  let current: LayerState = { layer: start, since: 0 };
  const changes: { at: number; layer: TeacherLayer }[] = [];
  for (const at of times) {
    history.push(link(at, current.layer));
    const next = chooseTeacherLayer(history, current);
    if (next.layer !== current.layer) {
      current = { layer: next.layer, since: at, resumed: current.layer === 'off' };
      changes.push({ at, layer: next.layer });
    }
  }
  return changes;
}

const every2s = (from: number, to: number): number[] =>
  Array.from({ length: Math.floor((to - from) / 2000) + 1 }, (_, i) => from + i * 2000);

describe("the teacher's layer", () => {
  it('stays at the full picture while the link is clean', () => {
    expect(run('high', every2s(4000, 60_000), clean)).toEqual([]);
  });

  it('steps down at the first bad sample and keeps stepping down one layer per settled bad sample', () => {
    const changes = run('high', every2s(4000, 30_000), (at, layer) => lossy(at, layer));
    expect(changes.map((c) => c.layer)).toEqual(['mid', 'low', 'off']);
    // Down quickly: the first change is the first sample, and each next one comes after the grace only.
    expect(changes[0]!.at).toBe(4000);
    expect(changes[1]!.at - changes[0]!.at).toBeLessThanOrEqual(4000);
    expect(changes[2]!.at - changes[1]!.at).toBeLessThanOrEqual(4000);
  });

  it('drops two layers at once on severe loss', () => {
    const changes = run('high', [4000], (at, layer) => lossy(at, layer, 30));
    expect(changes).toEqual([{ at: 4000, layer: 'low' }]);
  });

  it("treats Janus's slow_link on the subscriber as a bad sample", () => {
    const history: ReceiveSample[] = [clean(4000, 'high'), { kind: 'slowLink', at: 5000, layer: 'high' }];
    expect(chooseTeacherLayer(history, { layer: 'high', since: 0 }).layer).toBe('mid');
  });

  it('ignores samples taken just after a change: they still measure the layer before', () => {
    const history = [lossy(5000, 'mid')];
    expect(chooseTeacherLayer(history, { layer: 'mid', since: 4000 }).layer).toBe('mid');
    expect(chooseTeacherLayer([...history, lossy(8000, 'mid')], { layer: 'mid', since: 4000 }).layer).toBe(
      'low',
    );
  });

  it("does not judge the teacher's video in its first seconds after it (re)starts: it ramps up", () => {
    const ramping = { ...clean(5000, 'low'), fps: 4 };
    expect(chooseTeacherLayer([ramping], { layer: 'low', since: 0, resumed: true }).layer).toBe('low');
    expect(chooseTeacherLayer([ramping], { layer: 'mid', since: 0 }).layer).toBe('mid');
    expect(chooseTeacherLayer([{ ...ramping, layer: 'mid' }], { layer: 'mid', since: 0 }).layer).toBe('low');
    const later = { ...clean(7000, 'mid'), fps: 4 };
    expect(chooseTeacherLayer([later], { layer: 'mid', since: 0, resumed: true }).layer).toBe('low');
  });

  it('freezes and a slideshow frame rate are bad with the video on, not while it is off', () => {
    const frozen = { ...clean(4000, 'high'), freezes: 3 };
    const slow = { ...clean(4000, 'high'), fps: 3 };
    expect(chooseTeacherLayer([frozen], { layer: 'high', since: 0 }).layer).toBe('mid');
    expect(chooseTeacherLayer([slow], { layer: 'high', since: 0 }).layer).toBe('mid');
    const off = { ...clean(4000, 'off'), fps: 0, freezes: 0 };
    expect(chooseTeacherLayer([off], { layer: 'off', since: 0 }).layer).toBe('off');
  });

  it('steps up slowly: four clean samples at a layer before the next, one layer at a time', () => {
    const changes = run('low', every2s(4000, 60_000), clean);
    expect(changes.map((c) => c.layer)).toEqual(['mid', 'high']);
    // 4 settled samples: the first comes 4 s after the change (3 s grace), the 4th 6 s later.
    expect(changes[0]!.at).toBe(10_000);
    expect(changes[1]!.at - changes[0]!.at).toBe(10_000);
  });

  it('brings video back at the low layer within 10 s of the link recovering, then the full picture slowly', () => {
    // Bad for 30 s: the teacher's picture goes; the link recovers at 30 s.
    const recovered = 30_000;
    const changes = run('high', every2s(4000, 90_000), (at, layer) =>
      at <= recovered ? lossy(at, layer) : clean(at, layer),
    );
    const off = changes.find((c) => c.layer === 'off')!;
    expect(off.at).toBeLessThan(recovered);
    const back = changes.find((c) => c.at > recovered)!;
    // A probe at the low layer first, not the full rate.
    expect(back.layer).toBe('low');
    expect(back.at - recovered).toBeLessThanOrEqual(10_000);
    expect(changes.at(-1)!.layer).toBe('high');
    const high = changes.at(-1)!.at;
    expect(high - back.at).toBeGreaterThanOrEqual(16_000);
  });

  it('does not flap on a link that carries the low layer but not the middle one', () => {
    const changes = run('low', every2s(4000, 120_000), (at, layer) =>
      layer === 'mid' || layer === 'high' ? lossy(at, layer) : clean(at, layer),
    );
    const tries = changes.filter((c) => c.layer === 'mid').map((c) => c.at);
    expect(tries.length).toBeGreaterThanOrEqual(2);
    // Hysteresis: once 'mid' failed, the next try waits twice as long at 'low' as the first one did.
    const firstWait = tries[0]! - 0;
    const backToLow = changes.filter((c) => c.layer === 'low').map((c) => c.at);
    const secondWait = tries[1]! - backToLow[0]!;
    expect(secondWait).toBeGreaterThan(firstWait);
    expect(changes.every((c) => c.layer !== 'high' && c.layer !== 'off')).toBe(true);
  });

  it("probes from sound only on the sound's loss alone, not its long jitter buffer", () => {
    const history = [4000, 6000].map((at) => ({ ...clean(at, 'off'), fps: 0, jitterBufferMs: 700 }));
    expect(chooseTeacherLayer(history, { layer: 'off', since: 0 }).layer).toBe('low');
  });

  it('a stalled video jitter buffer is bad, a single freeze is not', () => {
    const stalled = { ...clean(4000, 'high'), jitterBufferMs: 1500 };
    expect(chooseTeacherLayer([stalled], { layer: 'high', since: 0 }).layer).toBe('mid');
    const once = [4000, 6000, 8000, 10_000].map((at) => ({ ...clean(at, 'mid'), freezes: 1 }));
    expect(chooseTeacherLayer(once, { layer: 'mid', since: 0 }).layer).toBe('high');
  });

  it('climbs no higher than the top layer it is given, and comes down to it from above at once', () => {
    const history = every2s(4000, 60_000).map((at) => clean(at, 'mid'));
    expect(chooseTeacherLayer(history, { layer: 'mid', since: 0 }, 'mid')).toEqual({ layer: 'mid' });
    expect(chooseTeacherLayer(history, { layer: 'mid', since: 0 }).layer).toBe('high');
    const low = every2s(4000, 60_000).map((at) => clean(at, 'low'));
    expect(chooseTeacherLayer(low, { layer: 'low', since: 0 }, 'low')).toEqual({ layer: 'low' });
    expect(chooseTeacherLayer([], { layer: 'high', since: 0 }, 'mid').layer).toBe('mid');
  });

  it('never pauses the picture for a stutter without loss (the CPU as often as the link)', () => {
    const stutter = (at: number, layer: TeacherLayer) => ({ ...clean(at, layer), fps: 5, freezes: 3 });
    expect(run('high', every2s(4000, 40_000), stutter).map((c) => c.layer)).toEqual(['mid', 'low']);
  });

  it('stays with sound only while the sound itself is lossy', () => {
    const changes = run('off', every2s(4000, 60_000), (at, layer) => ({ ...lossy(at, layer), fps: 0 }));
    expect(changes).toEqual([]);
  });
});

describe('the plan of the videos received', () => {
  const videos = [
    { mid: '1', feed: 'a', display: '兴国教学点' },
    { mid: '3', feed: 't', display: '王老师 Teacher Wang' },
    { mid: '5', feed: 'b', display: '于都教学点' },
    { mid: '7', feed: 'c', display: '宁都教学点' },
    { mid: '9', feed: 'd', display: '石城教学点' },
  ];

  it('takes the teacher at its layer, the first centres as thumbnails, the rest not at all', () => {
    const plan = planVideos(videos, 2, 'high');
    expect(plan).toEqual([
      { mid: '1', feed: 'a', role: 'thumbnail', send: true, substream: 0, temporal: 1 },
      { mid: '3', feed: 't', role: 'teacher', send: true, substream: 2, temporal: 2 },
      { mid: '5', feed: 'b', role: 'thumbnail', send: true, substream: 0, temporal: 1 },
      { mid: '7', feed: 'c', role: 'name', send: false, substream: 0, temporal: 1 },
      { mid: '9', feed: 'd', role: 'name', send: false, substream: 0, temporal: 1 },
    ]);
  });

  it("pauses the teacher's video with the layer off, and maps the others to Janus substreams", () => {
    expect(planVideos(videos, 2, 'off').find((p) => p.role === 'teacher')).toMatchObject({ send: false });
    expect(planVideos(videos, 2, 'low').find((p) => p.role === 'teacher')).toMatchObject({ substream: 0 });
    expect(planVideos(videos, 2, 'mid').find((p) => p.role === 'teacher')).toMatchObject({ substream: 1 });
  });

  it('with a cap of 0 decodes the teacher only; without a named teacher the first publisher is it', () => {
    expect(
      planVideos(videos, 0, 'high')
        .filter((p) => p.send)
        .map((p) => p.feed),
    ).toEqual(['t']);
    const plain = videos.filter((v) => v.feed !== 't');
    expect(planVideos(plain, 1, 'high').map((p) => p.role)).toEqual(['teacher', 'thumbnail', 'name', 'name']);
  });
});
