import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { CHROMIUM } from '../test/helpers/browser.js';
import type { BenchContext, Figure } from './figure.js';
import { startEmptyNest } from './lib/anchors.js';
import { startBoxProcess } from './lib/box.js';
import { figureOf } from './lib/figures.js';
import { ROOM, startJanus } from './lib/janus.js';
import { daemonNodeFlags } from './lib/unit.js';
import { chromiumPids, pssMb, rssMb, sleep } from './lib/processes.js';

/**
 * Idle memory: the daemon's RSS once it has settled idle (READY, kiosk connected, Janus session warm),
 * beside an empty Nest + Fastify app listening; Chromium's whole tree reported on its own.
 */
export async function measure(ctx: BenchContext): Promise<Figure[]> {
  const runs = ctx.smoke ? 1 : 3;
  const settleMs = ctx.smoke ? 3000 : 10_000;
  const janus = await startJanus();
  const daemon: number[] = [];
  const anchor: number[] = [];
  const chromium: number[] = [];
  const bareChromium: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const box = await startBoxProcess({ url: janus.url, room: ROOM });
      try {
        await sleep(settleMs);
        daemon.push(must(rssMb(box.pid), 'the daemon'));
        chromium.push(treePss(chromiumPids(box.pid)));
      } finally {
        await box.stop();
      }
      const empty = await startEmptyNest('http');
      try {
        await sleep(settleMs);
        anchor.push(must(rssMb(empty.proc.child.pid!), 'the empty Nest app'));
      } finally {
        await empty.stop();
      }
      bareChromium.push(await bareChromiumPss(settleMs));
      ctx.log(
        `memory run ${i + 1}/${runs}: daemon ${daemon.at(-1)?.toFixed(1)} MB, empty Nest+Fastify ${anchor.at(-1)?.toFixed(1)} MB, ` +
          `kiosk Chromium ${chromium.at(-1)?.toFixed(1)} MB, bare Chromium ${bareChromium.at(-1)?.toFixed(1)} MB`,
      );
    }
  } finally {
    await janus.stop();
  }
  // Each run beside the anchor measured in the same run: one bad run in three is a miss.
  const everyRun = daemon.every((mb, i) => mb <= 110 && mb / anchor[i]! <= 1.3);
  return [
    figureOf({
      name: 'daemon idle RSS',
      unit: 'MB',
      samples: daemon,
      anchor: 'empty Nest + Fastify app RSS',
      anchorSamples: anchor,
      target: '≤ 1.3× anchor and ≤ 110 MB in every run',
      meets: (f) => everyRun && f.ratio <= 1.3 && f.value <= 110,
      notes:
        `VmRSS of the daemon process ${settleMs / 1000} s after READY=1 (idle, kiosk connected); Chromium not included. ` +
        `The daemon runs with its unit's Node.js flags (${daemonNodeFlags().join(' ') || 'none'}), the anchor with none.`,
    }),
    figureOf({
      name: 'kiosk Chromium idle PSS (whole tree)',
      unit: 'MB',
      samples: chromium,
      anchor: 'bare headless Chromium on about:blank',
      anchorSamples: bareChromium,
      notes:
        'sum of Pss over every Chromium process under the daemon (browser, GPU, renderer, utility) showing the idle screen ' +
        'with the camera self-view; Pss so shared pages count once.',
    }),
  ];
}

async function bareChromiumPss(settleMs: number): Promise<number> {
  const profile = await mkdtemp(join(tmpdir(), 'classbox-bench-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    pipe: true,
    userDataDir: profile,
    args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    await (await browser.newPage()).goto('about:blank');
    await sleep(settleMs);
    const root = browser.process()?.pid;
    if (root === undefined) throw new Error('no Chromium process');
    return treePss([root, ...chromiumPids(root)]);
  } finally {
    await browser.close();
    // Chromium's last writes may still land while the folder is removed: retry.
    await rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

function treePss(pids: number[]): number {
  if (pids.length === 0) throw new Error('no Chromium processes found');
  return pids.reduce((sum, pid) => sum + (pssMb(pid) ?? 0), 0);
}

function must(value: number | undefined, what: string): number {
  if (value === undefined) throw new Error(`can't read the memory of ${what}: the process is gone`);
  return value;
}
