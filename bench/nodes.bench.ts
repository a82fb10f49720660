import type { Page } from 'puppeteer-core';
import { JanusServer } from '../device/demo/janus-server.js';
import { startTeacherServer } from '../device/demo/teacher-server.js';
import { HttpMediaNodeAdmin } from '../provisioning/adapters/media-node-admin.http.js';
import { remoteIdFor } from '../provisioning/domain/lecture-forwarding.js';
import { rtpHostOf } from '../provisioning/services/lecture-forwarding.service.js';
import { joinAsTeacher, launchParticipant } from '../test/helpers/browser.js';
import { freePort } from '../test/helpers/ports.js';
import { median, type BenchContext, type Figure } from './figure.js';
import { figureOf } from './lib/figures.js';
import { ROOM } from './lib/janus.js';
import { cpuSeconds, sleep, until } from './lib/processes.js';
import { firstFrameEpoch, nowEpoch } from './lib/teacher.js';

const TEACHER = '王老师 Teacher Wang';
const SECRET = 'bench-node-secret';

/**
 * Issue 19: what the extra hop of a lecture spread over nodes costs. Two Janus servers, each in its own
 * network namespace routed through this host; the teacher publishes on A, and A forwards it to B as a
 * remote publisher (the fleet's own requests: `add_remote_publisher` on B, `publish_remotely` on A). A
 * receiver joins on A (same node, the anchor) or on B (across nodes), in turn: the time from its join to
 * its first decoded frame of the teacher, then the teacher's glass-to-glass latency in steady state,
 * read from the picture (the teacher's camera is a canvas showing the clock; one browser, one clock).
 */
export async function measure(ctx: BenchContext): Promise<Figure[]> {
  const rounds = ctx.smoke ? 3 : 10;
  const perRound = ctx.smoke ? 10 : 30;
  const admin = new HttpMediaNodeAdmin();
  const nodes: JanusServer[] = [];
  const site = await startTeacherServer();
  const participant = await launchParticipant();
  const first = { same: [] as number[], across: [] as number[] };
  const latency = { same: [] as number[], across: [] as number[] };
  try {
    for (let i = 0; i < 2; i++) nodes.push(await startNode('bench lecture'));
    const [a, b] = nodes as [JanusServer, JanusServer];
    await joinAsTeacher(participant.browser, site.url, {
      janus: a.url,
      room: ROOM,
      display: TEACHER,
      capture: 'clock',
    });
    const streams = await until(
      async () => {
        const publishers = await admin.publishers(access(a), ROOM);
        const teacher = publishers.find((p) => p.display === TEACHER);
        const known = teacher && (await admin.publisherStreams(access(a), ROOM)).get(teacher.id);
        return known && { id: teacher.id, streams: known };
      },
      15_000,
      "the teacher's streams on node A",
      200,
    );
    const ports = await admin.addRemotePublisher(access(b), ROOM, {
      id: streams.id,
      display: TEACHER,
      streams: streams.streams,
    });
    await admin.publishRemotely(access(a), ROOM, {
      publisherId: streams.id,
      remoteId: remoteIdFor('b'),
      host: rtpHostOf({ ws_url: b.url }),
      ports,
    });
    for (let round = 0; round < rounds; round++) {
      for (const [where, node] of [
        ['same', a],
        ['across', b],
      ] as const) {
        ctx.log(`nodes: round ${round + 1}/${rounds}, receiver ${where} node`);
        const joinedAt = nowEpoch();
        const receiver = await joinAsTeacher(participant.browser, site.url, {
          janus: node.url,
          room: ROOM,
          display: `receiver ${round} ${where}`,
          audioOnly: true,
        });
        try {
          const frame = await firstFrameEpoch(receiver, TEACHER, 15_000);
          first[where].push(frame.at - joinedAt);
          latency[where].push(...(await steadyLatency(receiver, perRound)));
        } finally {
          await receiver.close();
        }
      }
    }
  } finally {
    await participant.close();
    await site.close();
    for (const node of nodes) await node.stop();
  }
  const notes =
    `${ctx.smoke ? 'smoke: ' : ''}${rounds} joins per side, alternating, one Chromium (janus.js pages) for ` +
    `teacher and receivers; ${perRound} latency readings per join after 1 s of playing; the teacher's ` +
    'camera a 640x480 canvas showing the clock as 24 blocks (read back per frame with ' +
    'requestVideoFrameCallback); room cap 2 Mbps; nodes in two network namespaces on this machine, so ' +
    'the hop has no real network delay: the figure is what Janus costs, a WAN adds its own RTT / 2';
  const cpu = await janusCpu(ctx);
  return [
    ...cpu,
    figureOf({
      name: "receiver join → teacher's first frame, across nodes",
      unit: 'ms',
      samples: first.across,
      anchor: 'the same, receiver on the teacher’s node',
      anchorSamples: first.same,
      notes,
    }),
    figureOf({
      name: 'teacher → receiver latency in steady state, across nodes',
      unit: 'ms',
      samples: latency.across,
      anchor: 'the same, receiver on the teacher’s node',
      anchorSamples: latency.same,
      notes,
    }),
  ];
}

/**
 * What Janus spends per stream it sends: its CPU (utime + stime of the process, all threads, from
 * /proc/PID/stat, over 5 s samples) with the teacher alone, then with N viewers each receiving the teacher's
 * audio and video, then with the teacher also forwarded to N other nodes (`publish_remotely`; plain RTP,
 * no SRTP). The per-stream cost is (with − alone) / N, in docs/scaling.md.
 */
async function janusCpu(ctx: BenchContext): Promise<Figure[]> {
  const viewers = ctx.smoke ? 4 : 8;
  const samples = ctx.smoke ? 4 : 12;
  // /proc counts in 1/100 s: over 5 s a sample resolves 0.2 % of a core, what a stream costs.
  const sampleS = 5;
  const admin = new HttpMediaNodeAdmin();
  const site = await startTeacherServer();
  const participant = await launchParticipant();
  const nodes: JanusServer[] = [];
  const sample = async (pid: number): Promise<number[]> => {
    const out: number[] = [];
    let before = cpuSeconds(pid);
    let at = performance.now();
    for (let i = 0; i < samples; i++) {
      await sleep(sampleS * 1000);
      const now = cpuSeconds(pid);
      const t = performance.now();
      // Percent of one core: a stream costs hundredths of a core, below the table's rounding in cores.
      out.push((100 * (now - before)) / ((t - at) / 1000));
      before = now;
      at = t;
    }
    return out;
  };
  try {
    for (let i = 0; i <= viewers; i++) nodes.push(await startNode('bench cpu'));
    const [a, ...others] = nodes as [JanusServer, ...JanusServer[]];
    await joinAsTeacher(participant.browser, site.url, { janus: a.url, room: ROOM, display: TEACHER });
    const pid = a.pid!;
    await sleep(2000);
    ctx.log('nodes: Janus CPU, teacher alone');
    const alone = await sample(pid);
    const pages: Page[] = [];
    for (let i = 0; i < viewers; i++) {
      const page = await joinAsTeacher(participant.browser, site.url, {
        janus: a.url,
        room: ROOM,
        display: `viewer ${i}`,
        viewOnly: true,
      });
      await firstFrameEpoch(page, TEACHER, 15_000);
      pages.push(page);
    }
    ctx.log(`nodes: Janus CPU, teacher and ${viewers} viewers`);
    const watched = await sample(pid);
    for (const page of pages) await page.close();
    await sleep(2000);
    const teacher = (await admin.publishers(access(a), ROOM)).find((p) => p.display === TEACHER)!;
    const streams = (await admin.publisherStreams(access(a), ROOM)).get(teacher.id)!;
    for (const [i, other] of others.entries()) {
      const ports = await admin.addRemotePublisher(access(other), ROOM, {
        id: teacher.id,
        display: TEACHER,
        streams,
      });
      await admin.publishRemotely(access(a), ROOM, {
        publisherId: teacher.id,
        remoteId: remoteIdFor(`n${i}`),
        host: rtpHostOf({ ws_url: other.url }),
        ports,
      });
    }
    await sleep(2000);
    ctx.log(`nodes: Janus CPU, teacher forwarded to ${viewers} nodes`);
    const forwarded = await sample(pid);
    const perStream = (with_: number[]) => ((median(with_) - median(alone)) / viewers).toFixed(2);
    const notes =
      `${ctx.smoke ? 'smoke: ' : ''}${samples} samples of ${sampleS} s each; per viewer (audio + video sent) ` +
      `${perStream(watched)} % of a core, per forward to a node ${perStream(forwarded)} %; ` +
      'Janus process CPU (all threads) ' +
      'from /proc/PID/stat; the teacher a janus.js page with the fake 640x480 camera (VP8 + Opus, room cap ' +
      `2 Mbps); viewers janus.js pages that publish nothing, in the same Chromium; per stream = ` +
      `(with − alone) / ${viewers}`;
    return [
      figureOf({
        name: `Janus CPU (% of a core), teacher + ${viewers} viewers`,
        unit: '%',
        samples: watched,
        anchor: 'teacher alone',
        anchorSamples: alone,
        notes,
      }),
      figureOf({
        name: `Janus CPU (% of a core), teacher forwarded to ${viewers} nodes`,
        unit: '%',
        samples: forwarded,
        anchor: 'teacher alone',
        anchorSamples: alone,
        notes,
      }),
    ];
  } finally {
    await participant.close();
    await site.close();
    for (const node of nodes) await node.stop();
  }
}

/** `count` readings of the teacher's clock on `receiver`, once its picture has played for a second. */
async function steadyLatency(receiver: Page, count: number): Promise<number[]> {
  return receiver.evaluate(
    async (name: string, n: number) => {
      type Teacher = {
        state: { publishers: Map<string, { display: string }> };
        clockLatency(feed: string): Promise<number | null>;
      };
      const t = (globalThis as unknown as { teacher: Teacher }).teacher;
      const feed = [...t.state.publishers.entries()].find(([, p]) => p.display === name)?.[0];
      if (feed === undefined) throw new Error(`no feed named ${name}`);
      await new Promise((r) => setTimeout(r, 1000));
      const out: number[] = [];
      while (out.length < n) {
        const ms = await t.clockLatency(feed);
        if (ms !== null) out.push(ms);
        await new Promise((r) => setTimeout(r, 100));
      }
      return out;
    },
    TEACHER,
    count,
  );
}

/** A media node as the fleet sees one: a real Janus in its own routed namespace, admin API on. */
async function startNode(description: string): Promise<JanusServer> {
  const node = new JanusServer({
    rooms: [{ room: ROOM, description, bitrate: 2_000_000 }],
    wsPort: await freePort(),
    admin: { port: await freePort(), secret: SECRET },
    network: 'netns',
    routed: true,
  });
  try {
    await node.start();
  } catch (error) {
    await node.stop().catch(() => undefined);
    throw error;
  }
  return node;
}

function access(j: JanusServer): { adminUrl: string; adminSecret: string } {
  return { adminUrl: j.adminUrl!, adminSecret: SECRET };
}
