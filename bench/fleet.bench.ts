import autocannon, { type AutocannonResult } from 'autocannon';
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { canonicalRequest, SIGNATURE_HEADERS, type Heartbeat } from '../common/fleet-protocol.js';
import { reason } from '../common/errors.js';
import { openFleetDatabase } from '../provisioning/db/database.js';
import { startPostgres, type TestPostgres } from '../test/helpers/postgres.js';
import { freePort } from '../test/helpers/ports.js';
import type { BenchContext, Figure } from './figure.js';
import { figureOf, notMeasured } from './lib/figures.js';
import { CLI, spawnNode, until, type Spawned } from './lib/processes.js';

const DEVICES = 10_000;
const CENTRE = 'bench-centre';
/** Concurrent connections of the load generator: the same for the fleet server and the anchor. */
const CONNECTIONS = 20;
const BARE_FASTIFY = join(dirname(fileURLToPath(import.meta.url)), 'anchors', 'bare-fastify.js');

const HEARTBEAT: Heartbeat = {
  state: 'idle',
  health: {
    camera: { status: 'ok' },
    microphone: { status: 'ok' },
    speaker: { status: 'ok' },
    kiosk: { status: 'ok' },
    server: { status: 'ok' },
  },
  version: '0.1.0',
  uptimeSec: 3600,
  temperatureC: 52.5,
  network: { rttMs: 48 },
  // What a box sends for the history (issue 18): the history's write is on the measured path.
  vitals: { state: 'idle', cpuTemperatureC: 52.5, uplinkKbps: 800, rttMs: 48, audioOnly: false },
};
const BODY = JSON.stringify(HEARTBEAT);
const BODY_SHA256 = createHash('sha256').update(BODY).digest('hex');

interface Device {
  id: string;
  publicKeyPem: string;
  privateKey: KeyObject;
}

interface Round {
  rate: number;
  p99: number;
  requests: number;
}

interface Plan {
  rounds: number;
  roundSeconds: number;
}

/**
 * Fleet: signed heartbeats per second and p99 latency from 10,000 simulated boxes, on SQLite and
 * PostgreSQL, beside a bare Fastify route answering the same body under the same load.
 */
export async function measure(ctx: BenchContext): Promise<Figure[]> {
  const rounds = ctx.smoke ? 1 : 3;
  const roundSeconds = ctx.smoke ? 3 : 10;
  ctx.log(`fleet: making ${DEVICES} device key pairs`);
  const devices = Array.from({ length: DEVICES }, (_, i) => newDevice(i));
  const dir = await mkdtemp(join(tmpdir(), 'classbox-bench-fleet-'));
  const figures: Figure[] = [];
  const plan = { rounds, roundSeconds };
  // BENCH_FLEET_BASELINE=…/bin/classbox.js: another build's server runs beside this one's on each
  // database, rounds alternated, so a change is judged against its own baseline in the same run.
  const baselineCli = process.env.BENCH_FLEET_BASELINE;
  const baseline = (what: string, location: () => Promise<string>): Contender[] =>
    baselineCli
      ? [{ what, start: async () => startFleet(await location(), devices, [], baselineCli), verifies: true }]
      : [];
  try {
    // Each database's servers run side by side, their rounds alternated, so a change in the machine's
    // load (other work on the same cores) hits the figure, its anchor and its history-off twin alike.
    const [anchor, sqlite, sqliteOff, sqliteBase] = await alternateRounds(ctx, devices, plan, [
      { what: 'bare Fastify', start: () => startBareFastify(), verifies: false },
      { what: 'SQLite', start: () => startFleet(join(dir, 'fleet.db'), devices), verifies: true },
      {
        what: 'SQLite, history off',
        start: () => startFleet(join(dir, 'fleet-no-history.db'), devices, ['--no-history']),
        verifies: true,
      },
      ...baseline('SQLite, baseline build', async () => join(dir, 'fleet-baseline.db')),
    ]);
    figures.push(...fleetFigures('SQLite', sqlite!, anchor!, plan, 5000));
    figures.push(historyFigure('SQLite', sqlite!, sqliteOff!));
    if (sqliteBase) figures.push(baselineFigure('SQLite', sqlite!, sqliteBase));

    let postgres: TestPostgres | undefined;
    try {
      postgres = await startPostgres();
      const on = await postgres.createDatabase('bench_fleet');
      const off = await postgres.createDatabase('bench_fleet_no_history');
      const db = postgres;
      const [pgAnchor, pg, pgOff, pgBase] = await alternateRounds(ctx, devices, plan, [
        { what: 'bare Fastify (beside PostgreSQL)', start: () => startBareFastify(), verifies: false },
        { what: 'PostgreSQL', start: () => startFleet(on, devices), verifies: true },
        {
          what: 'PostgreSQL, history off',
          start: () => startFleet(off, devices, ['--no-history']),
          verifies: true,
        },
        ...baseline('PostgreSQL, baseline build', () => db.createDatabase('bench_fleet_baseline')),
      ]);
      figures.push(...fleetFigures('PostgreSQL', pg!, pgAnchor!, plan, 3000));
      figures.push(historyFigure('PostgreSQL', pg!, pgOff!));
      if (pgBase) figures.push(baselineFigure('PostgreSQL', pg!, pgBase));
    } catch (error) {
      ctx.log(`Can't measure the fleet on PostgreSQL: ${reason(error)}`);
      figures.push(
        notMeasured('fleet heartbeats, PostgreSQL', 'bare Fastify route', '≥ 3,000 per s', reason(error)),
      );
    } finally {
      await postgres?.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}

/** This build against another one (`BENCH_FLEET_BASELINE`), same run, rounds alternated; no target. */
function baselineFigure(db: string, rounds: Round[], base: Round[]): Figure {
  return figureOf({
    name: `fleet heartbeats/s, ${db}, this build against the baseline build`,
    unit: 'per s',
    samples: rounds.map((r) => r.rate),
    anchor: `the build named by BENCH_FLEET_BASELINE, same run`,
    anchorSamples: base.map((r) => r.rate),
    notes: `p99 this build ${rounds.map((r) => r.p99).join('/')} ms, baseline ${base.map((r) => r.p99).join('/')} ms.`,
  });
}

/** p99 target of every database (issue 17). */
const P99_TARGET_MS = 20;

function fleetFigures(db: string, rounds: Round[], anchor: Round[], plan: Plan, minRate: number): Figure[] {
  const how =
    `${DEVICES} enrolled devices (written straight into the database, already idle: steady state), ` +
    `${plan.rounds} round(s) of about ${plan.roundSeconds} s each (request count sized from a warm-up round's rate; ` +
    `${rounds.map((r) => r.requests).join('/')} heartbeats, anchor ${anchor.map((r) => r.requests).join('/')}), ` +
    'every heartbeat signed beforehand with its own nonce, ' +
    `${CONNECTIONS} connections, autocannon in the runner, each server in its own process, the rounds of the servers compared alternated.`;
  return [
    figureOf({
      name: `fleet heartbeats/s, ${db}`,
      unit: 'per s',
      samples: rounds.map((r) => r.rate),
      anchor: 'bare Fastify route, same body and load',
      anchorSamples: anchor.map((r) => r.rate),
      target: `≥ ${minRate.toLocaleString('en')} per s`,
      meets: (f) => f.value >= minRate,
      higherIsBetter: true,
      notes: `${how} Judged on the median and the slowest rounds (5th percentile).`,
    }),
    figureOf({
      name: `fleet heartbeat p99 latency, ${db}`,
      unit: 'ms',
      samples: rounds.map((r) => r.p99),
      anchor: 'bare Fastify route p99',
      anchorSamples: anchor.map((r) => r.p99),
      target: `≤ ${P99_TARGET_MS} ms`,
      meets: (f) => f.value <= P99_TARGET_MS,
      notes: 'median over rounds of each round’s p99 (autocannon).',
    }),
  ];
}

/** What keeping the history costs the heartbeats (issue 18: at most 10 % fewer per second). */
function historyFigure(db: string, on: Round[], off: Round[]): Figure {
  return figureOf({
    name: `fleet heartbeats/s with history, ${db}`,
    unit: 'per s',
    samples: on.map((r) => r.rate),
    anchor: 'the same server with --no-history, same run',
    anchorSamples: off.map((r) => r.rate),
    target: 'ratio ≥ 0.9',
    meets: (f) => f.ratio >= 0.9,
    higherIsBetter: true,
    notes:
      'same devices, body and load, rounds alternated with the history-off server. The history is folded in ' +
      'memory and written once per box and minute after the minute ends (every 10 s a flush of the ended ' +
      'minutes: with these 10,000 boxes one write of 10,000 rows a minute, which a round may or may not hold).',
  });
}

interface Server {
  url: string;
  proc: Spawned;
}

interface Contender {
  what: string;
  start: () => Promise<Server>;
  /** Whether it checks signatures (then every request needs a fresh nonce). */
  verifies: boolean;
}

/**
 * Starts every contender, warms each up (which also tells how many requests make a round of the
 * planned length on it), then runs round 1 of each, round 2 of each, and so on; stops them all.
 */
async function alternateRounds(
  ctx: BenchContext,
  devices: Device[],
  plan: Plan,
  contenders: Contender[],
): Promise<Round[][]> {
  const servers: Server[] = [];
  try {
    for (const c of contenders) servers.push(await c.start());
    const amounts: number[] = [];
    for (const [i, c] of contenders.entries()) {
      const warm = await load(servers[i]!.url, devices, 2000, 0, c.verifies);
      const rate = warm['2xx'] / Math.max(warm.duration, 0.01);
      amounts.push(Math.max(1000, Math.round(rate * plan.roundSeconds)));
    }
    const results: Round[][] = contenders.map(() => []);
    for (let round = 0; round < plan.rounds; round++) {
      for (const [i, c] of contenders.entries()) {
        const amount = amounts[i]!;
        const result = await load(servers[i]!.url, devices, amount, 2000 + round * amount, c.verifies);
        const failed = result.non2xx + result.errors + result.timeouts;
        if (failed > 0)
          throw new Error(
            `${failed} of ${result['2xx'] + failed} heartbeats to ${c.what} failed (non-2xx, errors or timeouts)`,
          );
        const r = { rate: result['2xx'] / result.duration, p99: result.latency.p99, requests: amount };
        results[i]!.push(r);
        ctx.log(
          `fleet ${c.what} round ${round + 1}/${plan.rounds}: ${amount} heartbeats in ${result.duration} s, ` +
            `${r.rate.toFixed(0)} per s, p99 ${r.p99} ms`,
        );
      }
    }
    return results;
  } finally {
    for (const server of servers) await server.proc.stop();
  }
}

/**
 * `amount` heartbeats, device after device from `first`, each signed beforehand with its own nonce. The
 * anchor checks no signature, so it may cycle through a smaller signed set; the requests look the same.
 */
async function load(
  url: string,
  devices: Device[],
  amount: number,
  first: number,
  unique: boolean,
): Promise<AutocannonResult> {
  // A few spare: connections still in flight when the amount is reached may ask for one more.
  const count = unique ? amount + CONNECTIONS * 4 : Math.min(amount + CONNECTIONS * 4, 20_000);
  const signed = Array.from({ length: count }, (_, i) =>
    signedHeartbeat(devices[(first + i) % devices.length]!),
  );
  let next = 0;
  return autocannon({
    url,
    connections: CONNECTIONS,
    pipelining: 1,
    amount,
    // autocannon ends a run on its next sample tick; at the default 1 s that rounds every duration up
    // to whole seconds, which would understate a fast server's rate.
    sampleInt: 10,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => ({ ...request, ...signed[next++ % signed.length]! }),
      },
    ],
  });
}

function signedHeartbeat(device: Device): { path: string; headers: Record<string, string>; body: string } {
  const path = `/api/v1/devices/${device.id}/heartbeat`;
  const timestamp = String(Date.now());
  const nonce = randomBytes(16).toString('base64url');
  const signature = sign(
    null,
    Buffer.from(canonicalRequest({ method: 'POST', path, timestamp, nonce, bodySha256Hex: BODY_SHA256 })),
    device.privateKey,
  );
  return {
    path,
    body: BODY,
    headers: {
      'content-type': 'application/json',
      [SIGNATURE_HEADERS.device]: device.id,
      [SIGNATURE_HEADERS.timestamp]: timestamp,
      [SIGNATURE_HEADERS.nonce]: nonce,
      [SIGNATURE_HEADERS.signature]: signature.toString('base64'),
    },
  };
}

function newDevice(i: number): Device {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    id: `bench-box-${String(i).padStart(5, '0')}`,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey,
  };
}

/**
 * The devices go straight into the database: enrolling 10,000 through the API would take the
 * enrolment rate limit (20 per minute per address) hours, and enrolment is not what is measured.
 */
async function seed(location: string, devices: Device[], cli = CLI): Promise<void> {
  // Another build's database is made by that build's own migrations (its tsc output beside its bin/),
  // so a schema change is compared too, and that build's server finds the migrations it knows.
  const open =
    cli === CLI
      ? openFleetDatabase
      : (
          (await import(
            pathToFileURL(join(dirname(cli), '..', 'dist', 'provisioning', 'db', 'database.js')).href
          )) as {
            openFleetDatabase: typeof openFleetDatabase;
          }
        ).openFleetDatabase;
  const db = await open(location);
  try {
    const now = new Date().toISOString();
    await db
      .insertInto('centres')
      .values({
        id: CENTRE,
        name: '基准教学点',
        region: '江西',
        room_json: JSON.stringify({ janusUrl: 'ws://127.0.0.1:8188', room: 2222 }),
        timetable_json: '[]',
        timezone: 'Asia/Shanghai',
        created_at: now,
        updated_at: now,
      })
      .execute();
    for (let i = 0; i < devices.length; i += 500) {
      await db
        .insertInto('devices')
        .values(
          devices.slice(i, i + 500).map((d) => ({
            id: d.id,
            centre_id: CENTRE,
            display_name: d.id,
            public_key: d.publicKeyPem,
            state: 'idle',
            error_code: null,
            last_seen_at: now,
            version: '0.1.0',
            health_json: null,
            vitals_json: null,
            enrolled_at: now,
            updated_at: now,
          })),
        )
        .execute();
    }
  } finally {
    await db.destroy();
  }
}

async function startFleet(
  location: string,
  devices: Device[],
  extra: string[] = [],
  cli = CLI,
): Promise<Server> {
  await seed(location, devices, cli);
  const port = await freePort();
  // BENCH_PROFILE_DIR=dir: each fleet server writes a V8 CPU profile there when it stops (the profiles
  // behind provisioning/README.md's account of where a heartbeat's time goes).
  const profile = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  const proc = spawnNode(
    [...profile, cli, 'fleet', 'serve', '--db', location, '--port', String(port), ...extra],
    { CLASSBOX_LOG_LEVEL: 'warn' },
  );
  return { url: `http://127.0.0.1:${port}`, proc: await listening(proc, port) };
}

async function startBareFastify(): Promise<Server> {
  const port = await freePort();
  const proc = spawnNode([BARE_FASTIFY, String(port)]);
  return { url: `http://127.0.0.1:${port}`, proc: await listening(proc, port) };
}

async function listening(proc: Spawned, port: number): Promise<Spawned> {
  try {
    await until(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`exited early: ${proc.output()}`);
        await fetch(`http://127.0.0.1:${port}/`);
        return true;
      },
      30_000,
      `a server on port ${port}`,
      50,
    );
    return proc;
  } catch (error) {
    await proc.stop();
    throw error;
  }
}
