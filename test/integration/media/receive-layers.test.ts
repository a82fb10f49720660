import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receiving } from '../../../common/media-report.js';
import { DEFAULT_LAYER_OPTIONS } from '../../../device/domain/receive-layers.js';
import { BadLink } from '../../helpers/bad-link.js';
import { waitFor } from '../../helpers/browser.js';
import { Classroom, kioskOf } from '../../helpers/classroom.js';
import type { TestBox } from '../../helpers/box.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'media');
const TEACHER = '王老师 Teacher Wang';
const CENTRES = ['兴国教学点', '于都教学点', '宁都教学点', '石城教学点'];

/** A tile of the box's page as it draws it (window.classbox.remote()). */
interface Tile {
  display: string;
  framesDecoded: number;
  width: number;
  height: number;
  shown: string;
}

const tiles = (box: TestBox): Promise<Tile[]> => kioskOf(box).evaluate<Tile[]>('window.classbox.remote()');

async function receiving(box: TestBox): Promise<Receiving[]> {
  return (await box.status()).media.receiving ?? [];
}

async function teacherSetting(box: TestBox, teacherFeed: string): Promise<Receiving | undefined> {
  return (await receiving(box)).find((r) => r.feed === teacherFeed);
}

/**
 * Wait for the teacher's layer to climb above the probe's (substream ≥ 1), reading the box's own report of
 * the teacher's picture every 2 s (the page's report interval) and judging it as the layer policy does.
 * Fails as soon as the box has had more clean samples in a row than the up rule can ask for (twice
 * `upSamples` after a recent failure, and one for the sample in flight) without climbing.
 */
async function climbOrHold(
  box: TestBox,
  teacherFeed: string,
  timeoutMs: number,
): Promise<{ climbed: boolean; samples: number; stutters: number; longestClean: number }> {
  const o = DEFAULT_LAYER_OPTIONS;
  const mustClimbAfter = 2 * o.upSamples + 1;
  const until = Date.now() + timeoutMs;
  let samples = 0;
  let stutters = 0;
  let clean = 0;
  let longestClean = 0;
  let lastKey: string | undefined;
  for (;;) {
    const status = await box.status();
    if ((status.media.receiving?.find((r) => r.feed === teacherFeed)?.substream ?? 0) >= 1)
      return { climbed: true, samples, stutters, longestClean };
    const entry = status.media.inbound?.find((i) => i.feed === teacherFeed);
    const v = entry?.video;
    // The status holds the page's latest report: one read twice (a late report) is one sample.
    const key = JSON.stringify(entry);
    if (v && key !== lastKey) {
      lastKey = key;
      samples++;
      const stutter =
        v.fps < o.minFps || (v.freezes ?? 0) >= o.badFreezes || (v.jitterBufferMs ?? 0) > o.maxJitterBufferMs;
      const lossy = v.lossPct > o.goodLossPct;
      if (stutter) stutters++;
      clean = stutter || lossy ? 0 : clean + 1;
      longestClean = Math.max(longestClean, clean);
      if (clean >= mustClimbAfter)
        throw new Error(
          `the teacher's layer did not climb after ${clean} clean samples in a row: ${JSON.stringify(v)}`,
        );
    }
    if (Date.now() >= until) return { climbed: false, samples, stutters, longestClean };
    await new Promise((r) => setTimeout(r, 2000));
  }
}

// Real Janus, the real daemon and its kiosk page, a janus.js teacher sending simulcast (720p, three
// layers) and four other centres sending simulcast from a 360p camera (issue 16). The centres subscribe
// to no one, so the box is the only receiver on the link Janus sends over, and a bad downlink is its own.
describe('the box receives the teacher large and other centres cheaply', () => {
  let room: Classroom;
  let link: BadLink;
  beforeAll(async () => {
    room = await Classroom.open();
    link = new BadLink(room.janus);
  }, 60_000);
  afterAll(async () => {
    await link?.close();
    await room?.close();
  });

  it('takes thumbnails at the small layer, decodes at most the cap, and steps the teacher down and back up on a bad downlink', async () => {
    await room.participant(TEACHER, { simulcast: true, receive: false });
    for (const name of CENTRES)
      await room.participant(name, { simulcast: true, capture: 'stdres-16:9', receive: false });
    // Two other centres decoded at once besides the teacher (the pi4 profile's own cap is one; two here so
    // that thumbnails and name tiles are both more than one). The teacher's top layer is the config's full
    // one here (a Pi 4's own is the middle one), so all three steps are exercised.
    const box = await room.box({ media: { profile: 'pi4', maxTeacherLayer: 'high', maxThumbnails: 2 } });
    await box.press('class');
    await box.waitForState('live', 30_000);

    const status = await waitFor(
      async () => {
        const s = await box.status();
        return (s.media.receiving?.length ?? 0) === 5 ? s : undefined;
      },
      30_000,
      'the box to plan all five videos',
    );
    expect(status.media.maxThumbnails).toBe(2);
    const feedOf = (display: string) => status.remoteFeeds.find((f) => f.display === display)!.feed;
    const teacherFeed = feedOf(TEACHER);
    const plan = new Map(status.media.receiving!.map((r) => [r.feed, r]));
    // What the box asked of Janus: the teacher's full layer, two thumbnails at the smallest layer and half
    // the frame rate, two centres not relayed at all.
    expect(plan.get(teacherFeed)).toEqual({ feed: teacherFeed, shown: 'teacher', substream: 2, temporal: 2 });
    const thumbnails = CENTRES.filter((c) => plan.get(feedOf(c))?.shown === 'thumbnail');
    const names = CENTRES.filter((c) => plan.get(feedOf(c))?.shown === 'name');
    expect(thumbnails).toHaveLength(2);
    expect(names).toHaveLength(2);
    for (const c of thumbnails) expect(plan.get(feedOf(c))).toMatchObject({ substream: 0, temporal: 1 });
    for (const c of names) expect(plan.get(feedOf(c))).not.toHaveProperty('substream');

    // What the page decodes: the teacher's picture large, the thumbnails at their small layer.
    const drawn = await waitFor(
      async () => {
        const t = await tiles(box);
        const teacher = t.find((x) => x.display === TEACHER);
        const small = t.filter((x) => thumbnails.includes(x.display));
        return teacher && teacher.height >= 360 && small.length === 2 && small.every((x) => x.width > 0)
          ? t
          : undefined;
      },
      60_000,
      "the teacher's picture at its full layer and both thumbnails",
    );
    const teacherTile = drawn.find((x) => x.display === TEACHER)!;
    const small = drawn.filter((x) => thumbnails.includes(x.display));
    console.log(
      `decoded: teacher ${teacherTile.width}×${teacherTile.height}; thumbnails ${small.map((x) => `${x.width}×${x.height}`).join(', ')}`,
    );
    // A centre's camera is 640×360; its smallest layer is half that or less.
    for (const x of small) expect(x.width).toBeLessThanOrEqual(320);
    expect(teacherTile.width).toBeGreaterThanOrEqual(2 * Math.max(...small.map((x) => x.width)));

    // The decode cap: the centres beyond it are name tiles, and not a frame of theirs is decoded.
    const before = await tiles(box);
    await new Promise((r) => setTimeout(r, 4000));
    const after = await tiles(box);
    for (const name of names) {
      const b = before.find((x) => x.display === name)!;
      const a = after.find((x) => x.display === name)!;
      expect(a.shown).toBe('name');
      expect(a.framesDecoded).toBe(b.framesDecoded);
      expect(a.framesDecoded).toBeLessThanOrEqual(2);
    }
    for (const name of thumbnails) {
      const b = before.find((x) => x.display === name)!;
      const a = after.find((x) => x.display === name)!;
      expect(a.framesDecoded).toBeGreaterThan(b.framesDecoded);
    }
    const text = await kioskOf(box).evaluate<string>('document.body.innerText');
    expect(text).toContain('仅声音');
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(
      join(ARTIFACTS, 'teacher-and-4-centres-1280x720.png'),
      await kioskOf(box).screenshot('png'),
    );

    // On the clean link the teacher's picture is never paused. Its layer is the full one unless the
    // box's own decoder stutters on this shared machine (freezes without loss), which rightly holds it
    // lower (never to sound only): printed, and the step-down below is judged from wherever it is.
    await new Promise((r) => setTimeout(r, 6000));
    const clean = await teacherSetting(box, teacherFeed);
    expect(clean).toMatchObject({ shown: 'teacher' });
    console.log(`teacher on the clean link: ${JSON.stringify(clean)}`);
    const cleanLayer = clean?.substream ?? 2;

    // A bad downlink (10 % of what Janus sends lost): the teacher's layer steps down at once (from the
    // low layer, to sound only).
    await link.setDownlink({ lossPct: 10 });
    const badAt = Date.now();
    const down = await waitFor(
      async () => {
        const t = await teacherSetting(box, teacherFeed);
        return t && (t.shown === 'paused' || (t.substream ?? 2) < cleanLayer) ? t : undefined;
      },
      30_000,
      "the teacher's layer to step down",
    );
    console.log(`teacher stepped down to ${JSON.stringify(down)} ${Date.now() - badAt} ms into the bad link`);
    // Let it settle where the link holds it (the sound goes on whatever the picture does).
    await new Promise((r) => setTimeout(r, 15_000));
    const during = await teacherSetting(box, teacherFeed);
    expect(during?.shown === 'paused' || (during?.substream ?? 2) < cleanLayer).toBe(true);
    if (during?.shown === 'paused') {
      expect(await kioskOf(box).evaluate<string>('document.body.innerText')).toContain('老师的画面暂停');
      await writeFile(join(ARTIFACTS, 'teacher-paused-1280x720.png'), await kioskOf(box).screenshot('png'));
    }

    // The link recovers: video comes back (a low layer first), then the full picture, slowly.
    await link.setDownlink(undefined);
    const recovered = Date.now();
    const framesThen = (await tiles(box)).find((x) => x.display === TEACHER)!.framesDecoded;
    await waitFor(
      async () => {
        const t = await teacherSetting(box, teacherFeed);
        const tile = (await tiles(box)).find((x) => x.display === TEACHER);
        return t?.shown === 'teacher' && tile && tile.framesDecoded > framesThen + 10;
      },
      30_000,
      "the teacher's video to come back",
    );
    // A figure, not asserted here (timings belong in the bench): the issue's target is 10 s.
    console.log(`teacher's video back ${Date.now() - recovered} ms after the downlink recovered`);
    // Up slowly from the probe. The climb needs clean samples of the teacher's picture (`chooseTeacherLayer`),
    // and on this shared machine the picture can stutter without loss on a clean link (the box's decoder,
    // or the janus.js teacher's encoder starved, its smallest layer at 0–10 fps): the policy then rightly
    // holds it at the probe's layer. So the climb is required once the box has seen a long clean stretch
    // (the up rule's samples twice over, and one more) and not climbed; a hold through stutters is printed.
    const held = await climbOrHold(box, teacherFeed, 60_000);
    if (!held.climbed) {
      console.log(
        `teacher held at the probe's layer for 60 s: ${held.stutters} of ${held.samples} samples stuttered ` +
          `without loss (longest clean run ${held.longestClean}); not climbing then is the policy`,
      );
    } else {
      console.log(
        `teacher's layer above the probe's ${Date.now() - recovered} ms after the downlink recovered`,
      );
      const full = await waitFor(
        async () => (await teacherSetting(box, teacherFeed))?.substream === 2,
        40_000,
        "the teacher's full layer",
      ).catch(() => false);
      console.log(
        full
          ? `teacher's full layer back ${Date.now() - recovered} ms after the downlink recovered`
          : `teacher's full layer not back ${Date.now() - recovered} ms after the downlink recovered (stutters on this machine)`,
      );
    }

    await box.press('class', 2500);
    await box.waitForState('idle', 20_000);
  }, 300_000);
});
