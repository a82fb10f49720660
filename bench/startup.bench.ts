import type { BenchContext, Figure } from './figure.js';
import { startEmptyNest } from './lib/anchors.js';
import { startBoxProcess } from './lib/box.js';
import { figureOf } from './lib/figures.js';
import { ROOM, startJanus } from './lib/janus.js';

/** Daemon start → READY=1 (spawn of the real CLI to the datagram), beside an empty Nest context's start. */
export async function measure(ctx: BenchContext): Promise<Figure[]> {
  const runs = ctx.smoke ? 2 : 7;
  const janus = await startJanus();
  const daemon: number[] = [];
  const anchor: number[] = [];
  try {
    // Alternate the two so machine noise (other work on the two cores) falls on both alike.
    for (let i = 0; i < runs; i++) {
      const box = await startBoxProcess({ url: janus.url, room: ROOM });
      daemon.push(box.readyAt - box.proc.spawnedAt);
      await box.stop();
      const empty = await startEmptyNest('context');
      anchor.push(empty.startMs);
      await empty.stop();
      ctx.log(
        `startup run ${i + 1}/${runs}: daemon ${fmt(daemon.at(-1))} ms, empty Nest ${fmt(anchor.at(-1))} ms`,
      );
    }
  } finally {
    await janus.stop();
  }
  return [
    figureOf({
      name: 'daemon start → READY=1',
      unit: 'ms',
      samples: daemon,
      anchor: 'empty Nest application context start',
      anchorSamples: anchor,
      target: '≤ 1.5 s on 2 cores',
      meets: (f) => f.median <= 1500,
      notes:
        'spawn of `node bin/classbox.js device` (sim mode, headless Chromium, Janus reachable) to the READY=1 datagram; ' +
        'READY waits for the kiosk page to connect, so Chromium launch is included. Both timed spawn → READY=1 on a bound notify socket.',
    }),
  ];
}

function fmt(v: number | undefined): string {
  return v === undefined ? '-' : v.toFixed(0);
}
