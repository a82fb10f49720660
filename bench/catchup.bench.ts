import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JanusServer } from '../device/demo/janus-server.js';
import { resumableDownload } from '../device/adapters/resumable-download.http.js';
import { JanusRecordingTools } from '../provisioning/adapters/recording-tools.janus.js';
import { writeMjr2 } from '../test/helpers/mjr.js';
import { freePort } from '../test/helpers/ports.js';
import type { BenchContext, Figure } from './figure.js';
import { figureOf } from './lib/figures.js';
import { until } from './lib/processes.js';

/** The rural link the gap is fetched over, kbit/s (shaped with htb, as the tests' capLink does). */
const LINK_KBIT = 1000;
/** The box's own cap on a catch-up download (`catchup.maxKbps`' default): half the link, for the next class. */
const BOX_MAX_KBPS = 512;

/**
 * Issue 21's figure: what a missed stretch costs a centre. A gap is cut by the fleet's real tools
 * (`JanusRecordingTools.cut`: VP8 ≤ 300 kbit/s, ≤ 640×360, 15 fps, Opus 32 kbit/s) and fetched by the box's
 * real download code (`resumableDownload`, at the box's 512 kbit/s cap) from a server in its own network
 * namespace behind a 1 Mbit/s htb cap. Figures: bytes fetched per missed minute, and the time from the
 * box's request to the gap being on the box (cut + fetch; the fleet's conversion of the `.mjr` is made once
 * per recording and left out).
 *
 * The input is not a class: it is Janus's own 10 s sample recording (Debian's janus-demos, VP8 640×480 and
 * Opus), rewritten as MJR00002, converted with janus-pp-rec, and looped with ffmpeg (stream copy) to the gap's
 * length. The re-encode is at a fixed bitrate, so the bytes per minute depend little on the picture; the
 * cut's time does (a still sample is easier to encode than a teacher at a blackboard).
 */
export async function measure(ctx: BenchContext): Promise<Figure[]> {
  const gapMin = ctx.smoke ? 0.5 : 10;
  // One gap per run: a 10-minute gap is a quarter of an hour of cut and fetch here.
  const runs = 1;
  const dir = mkdtempSync(join(tmpdir(), 'classbox-catchup-bench-'));
  const tools = new JanusRecordingTools();
  let janus: JanusServer | undefined;
  let server: ChildProcess | undefined;
  try {
    // The recording, as the fleet has it after its one conversion.
    for (const [kind, index] of [
      ['video', 1],
      ['audio', 0],
    ] as const) {
      writeMjr2(kind, join(dir, `sample-${kind}-${index}.mjr`), 0);
    }
    await tools.convert(join(dir, 'sample-video-1.mjr'), join(dir, 'sample.webm'));
    await tools.convert(join(dir, 'sample-audio-0.mjr'), join(dir, 'sample.opus'));
    // Looped to the gap and a little more (the sample is ~10 s).
    const loops = String(Math.ceil((gapMin * 60 + 20) / 10));
    for (const [from, to] of [
      ['sample.webm', 'long.webm'],
      ['sample.opus', 'long.opus'],
    ] as const) {
      const ff = spawnSync('ffmpeg', [
        ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'],
        ...['-stream_loop', loops, '-i', join(dir, from), '-c', 'copy', join(dir, to)],
      ]);
      if (ff.status !== 0) throw new Error(`ffmpeg loop failed: ${ff.stderr.toString().slice(-300)}`);
    }

    // The fleet's side of the link: a plain HTTP server in Janus's namespace, its way out capped.
    janus = new JanusServer({ rooms: [], wsPort: await freePort() });
    await janus.start();
    const link = janus.link;
    if (!link) throw new Error('the catch-up bench needs a network namespace (run as root)');
    const ip = new URL(janus.url).hostname;
    const inNs = (...args: string[]) => {
      const r = spawnSync('ip', ['netns', 'exec', link.ns, ...args]);
      if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr.toString()}`);
    };
    inNs('tc', 'qdisc', 'add', 'dev', link.janusIf, 'root', 'handle', '1:', 'htb', 'default', '10');
    inNs(
      ...['tc', 'class', 'add', 'dev', link.janusIf, 'parent', '1:', 'classid', '1:10', 'htb'],
      ...['rate', `${LINK_KBIT}kbit`, 'ceil', `${LINK_KBIT}kbit`, 'burst', '15k', 'cburst', '15k'],
    );
    const served = join(dir, 'served');
    mkdirSync(served);
    const port = await freePort();
    server = spawn(
      'ip',
      [
        'netns',
        'exec',
        link.ns,
        'python3',
        '-m',
        'http.server',
        String(port),
        '--bind',
        ip,
        '--directory',
        served,
      ],
      { stdio: 'ignore' },
    );
    const url = `http://${ip}:${port}`;
    await until(async () => (await fetch(url).catch(() => undefined))?.ok, 10_000, 'the file server', 200);
    const { privateKey } = generateKeyPairSync('ed25519');
    const session = {
      url,
      deviceId: 'bench-box',
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      clockOffsetMs: 0,
    };

    const perMinute: number[] = [];
    const sourcePerMinute: number[] = [];
    const ready: number[] = [];
    const lineTime: number[] = [];
    for (let run = 0; run < runs; run++) {
      const cut = join(served, `cut-${run}.webm`);
      const started = performance.now();
      // A minute in: as a gap in the middle of a class.
      await tools.cut(
        {
          video: { file: join(dir, 'long.webm'), startMs: 0 },
          audio: { file: join(dir, 'long.opus'), startMs: 0 },
        },
        10_000,
        10_000 + gapMin * 60_000,
        cut,
      );
      const cutS = (performance.now() - started) / 1000;
      const size = statSync(cut).size;
      const fetched = join(dir, `fetched-${run}.part`);
      await resumableDownload(session, `/cut-${run}.webm`, fetched, size, {
        bytesPerSec: (BOX_MAX_KBPS * 1000) / 8,
        fail: (kind, message) => new Error(`${kind}: ${message}`),
      });
      const totalS = (performance.now() - started) / 1000;
      if (statSync(fetched).size !== size) throw new Error('the fetched file is not the whole cut');
      ctx.log(
        `catch-up: ${gapMin} min gap → ${(size / 1e6).toFixed(2)} MB, cut ${cutS.toFixed(1)} s, ` +
          `fetch ${(totalS - cutS).toFixed(1)} s`,
      );
      perMinute.push(size / 1e6 / gapMin);
      sourcePerMinute.push(
        (statSync(join(dir, 'sample.webm')).size + statSync(join(dir, 'sample.opus')).size) /
          1e6 /
          (10.5 / 60),
      );
      ready.push(totalS);
      lineTime.push((size * 8) / (LINK_KBIT * 1000));
    }
    const what =
      `${ctx.smoke ? 'smoke: ' : ''}${runs} run(s) of a ${gapMin}-minute gap cut from Janus's 10 s sample ` +
      'recording looped with ffmpeg (not a real class: see bench/catchup.bench.ts)';
    return [
      figureOf({
        name: 'catch-up bytes fetched per missed minute',
        unit: 'MB',
        samples: perMinute,
        anchor: "the sample recording's own size per minute (janus-pp-rec output)",
        anchorSamples: sourcePerMinute,
        notes: `${what}; VP8 ≤ 300 kbit/s 640×360 15 fps + Opus 32 kbit/s in WebM; MB = 10^6 bytes`,
      }),
      figureOf({
        name: `catch-up: a ${gapMin}-minute gap ready on the box over a ${LINK_KBIT / 1000} Mbit/s link`,
        unit: 's',
        samples: ready,
        anchor: 'the cut’s bytes at the full link rate (computed, not measured)',
        anchorSamples: lineTime,
        notes:
          `${what}; cut (re-encode) + fetch at the box's ${BOX_MAX_KBPS} kbit/s cap (catchup.maxKbps) over htb at ` +
          `${LINK_KBIT} kbit/s; the one-time .mjr conversion is not included`,
      }),
    ];
  } finally {
    if (server?.pid !== undefined) server.kill();
    await janus?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
