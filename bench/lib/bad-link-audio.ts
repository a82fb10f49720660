import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Page } from 'puppeteer-core';
import { startTeacherServer } from '../../device/demo/teacher-server.js';
import { BadLink } from '../../test/helpers/bad-link.js';
import {
  joinAsTeacher,
  launchParticipant,
  teacherSees,
  type RemoteSeen,
} from '../../test/helpers/browser.js';
import type { BenchContext, Figure } from '../figure.js';
import { BOX_NAME, startBoxProcess } from './box.js';
import { figureOf } from './figures.js';
import { ROOM, startJanus } from './janus.js';
import { sleep, until } from './processes.js';

const PLAIN = 'janus.js 普通发布者 plain publisher';
const LINK = { kbit: 300, lossPct: 10 } as const;
const SLICE_MS = 5000;

/**
 * Issue 16's sound figure: the share of the box's sound the teacher plays for real (not concealment) with
 * the box on a 300 kbit/s uplink and 10 % random loss, beside a plain janus.js publisher (default settings)
 * on its own uplink shaped the same, in the same room and run. The shaping is the tests' (`BadLink`: htb
 * per net_cls group, nftables loss in Janus's namespace); the teacher is on a clean link, sends sound only
 * and gets the CPU first, so concealment at the teacher is the link's doing. One sample per 5 s slice.
 */
export async function measureAudio(ctx: BenchContext): Promise<Figure[]> {
  const windowMs = ctx.smoke ? 20_000 : 60_000;
  const janus = await startJanus();
  const site = await startTeacherServer();
  const link = new BadLink(janus);
  const closers: (() => Promise<void>)[] = [];
  try {
    await link.open(['box', 'plain'], LINK);
    const teacherBrowser = await launchParticipant();
    closers.push(teacherBrowser.close);
    const teacherPid = teacherBrowser.browser.process()?.pid;
    if (teacherPid) await promisify(execFile)('renice', ['-n', '-10', '-g', String(teacherPid)]);
    const teacher = await joinAsTeacher(teacherBrowser.browser, site.url, {
      janus: janus.url,
      room: ROOM,
      display: '王老师 Teacher Wang',
      audioOnly: true,
    });
    const box = await link.startIn('box', () =>
      startBoxProcess({ url: janus.url, room: ROOM }, { mediaProfile: 'pi4' }),
    );
    closers.push(() => box.stop());
    const plain = await link.startIn('plain', () => launchParticipant());
    closers.push(plain.close);
    await joinAsTeacher(plain.browser, site.url, { janus: janus.url, room: ROOM, display: PLAIN });
    await box.pressClass();
    await box.waitForState('live', 30_000);
    for (const display of [BOX_NAME, PLAIN])
      await until(
        async () => ((await teacherSees(teacher)).find((r) => r.display === display)?.audioBytes ?? 0) > 2000,
        30_000,
        `the teacher to hear ${display}`,
        200,
      );
    // Both senders' bandwidth estimates settle on the capped link first.
    await sleep(10_000);
    const box_: Slice[] = [];
    const plain_: Slice[] = [];
    let before = await heard(teacher);
    for (let t = 0; t < windowMs; t += SLICE_MS) {
      await sleep(SLICE_MS);
      const after = await heard(teacher);
      const [b, p] = [sliceOf(before, after, BOX_NAME), sliceOf(before, after, PLAIN)];
      box_.push(b);
      plain_.push(p);
      const sent = (await box.status()).media?.outbound;
      const uplink = `video ${sent?.video?.kbps ?? 0} kbit/s, uplink estimate ${sent?.uplinkKbps ?? '—'} kbit/s`;
      ctx.log(`audio: ${t / 1000 + SLICE_MS / 1000} s box ${describe(b)}, ${uplink} | plain ${describe(p)}`);
      before = after;
    }
    const of = (slices: Slice[], k: keyof Slice): number[] => slices.map((x) => x[k]);
    const sampling = `${ctx.smoke ? 'smoke: ' : ''}one sample per ${SLICE_MS / 1000} s over ${windowMs / 1000} s; box pi4 profile`;
    const fec = (slices: Slice[]): number => slices.reduce((a, x) => a + x.fecUsed, 0);
    const lost = (slices: Slice[]): number => slices.reduce((a, x) => a + x.lost, 0);
    return [
      figureOf({
        name: `real sound of the box at the teacher, ${LINK.kbit} kbit/s + ${LINK.lossPct} % loss`,
        unit: '%',
        samples: of(box_, 'real'),
        anchor: 'a plain janus.js publisher (default settings) on the same link, same run',
        anchorSamples: of(plain_, 'real'),
        target: '≥ 97 %',
        meets: ({ value }) => value >= 97,
        higherIsBetter: true,
        notes: `${sampling}: 1 − Δconcealed/ΔtotalSamplesReceived of the teacher’s inbound audio`,
      }),
      figureOf({
        name: `the box's sound packets missing at the teacher, ${LINK.kbit} kbit/s + ${LINK.lossPct} % loss`,
        unit: '%',
        samples: of(box_, 'missing'),
        anchor: 'a plain janus.js publisher on the same link (no retransmission of sound)',
        anchorSamples: of(plain_, 'missing'),
        notes:
          `${sampling}: ΔpacketsLost/(ΔpacketsLost+ΔpacketsReceived) at the teacher, i.e. lost and not resent ` +
          `in time; packets rebuilt from Opus FEC over the window: box ${fec(box_)} of ${lost(box_)} missing, ` +
          `plain ${fec(plain_)} of ${lost(plain_)}`,
      }),
      figureOf({
        name: `the teacher's jitter buffer for the box's sound, ${LINK.kbit} kbit/s + ${LINK.lossPct} % loss`,
        unit: 'ms',
        samples: of(box_, 'jitterBufferMs'),
        anchor: 'a plain janus.js publisher on the same link',
        anchorSamples: of(plain_, 'jitterBufferMs'),
        notes: `${sampling}: ΔjitterBufferDelay/ΔjitterBufferEmittedCount, the sound's wait at the teacher`,
      }),
    ];
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await link.close();
    await site.close();
    await janus.stop();
  }
}

async function heard(teacher: Page): Promise<Map<string, RemoteSeen>> {
  return new Map((await teacherSees(teacher)).map((r) => [r.display, r]));
}

/** One slice of what the teacher played of a sender, from its inbound-rtp audio counters. */
interface Slice {
  /** Share of the played sound that was real, not concealment, %. */
  real: number;
  /** Share of the sender's packets still missing (lost and not resent in time), %. */
  missing: number;
  lost: number;
  /** Lost packets rebuilt from the next one's Opus FEC. */
  fecUsed: number;
  /** Stretches of concealment, and packets that came too late to be played. */
  concealmentEvents: number;
  discarded: number;
  jitterBufferMs: number;
}

function describe(s: Slice): string {
  return (
    `real ${s.real.toFixed(1)} % missing ${s.missing.toFixed(1)} % (${s.lost}, FEC ${s.fecUsed}, ` +
    `too late ${s.discarded}) concealment events ${s.concealmentEvents} jitter buffer ${s.jitterBufferMs.toFixed(0)} ms`
  );
}

function sliceOf(before: Map<string, RemoteSeen>, after: Map<string, RemoteSeen>, display: string): Slice {
  const a = after.get(display)?.audio;
  const b = before.get(display)?.audio;
  if (!a || !b) throw new Error(`the teacher lost ${display} during the measurement`);
  const d = (k: string): number => (a[k] ?? 0) - (b[k] ?? 0);
  const total = d('totalSamplesReceived');
  if (total <= 0) throw new Error(`the teacher played nothing of ${display} for ${SLICE_MS / 1000} s`);
  const lost = d('packetsLost');
  return {
    real: 100 * (1 - d('concealedSamples') / total),
    missing: (100 * lost) / Math.max(1, lost + d('packetsReceived')),
    lost,
    fecUsed: d('fecPacketsReceived') - d('fecPacketsDiscarded'),
    concealmentEvents: d('concealmentEvents'),
    discarded: d('packetsDiscarded'),
    jitterBufferMs: (1000 * d('jitterBufferDelay')) / Math.max(1, d('jitterBufferEmittedCount')),
  };
}
