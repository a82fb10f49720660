import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { reason } from '../common/errors.js';
import { packageRoot } from '../common/package-root.js';
import { VERSION } from '../common/version.js';
import type { BenchModule, Figure } from './figure.js';
import { NO_TARGET, notMeasured } from './lib/figures.js';
import { describeMachine } from './lib/machine.js';
import { formatNotes, formatTable } from './lib/table.js';

/** Every bench module, in run order, with what it reports when it cannot run. */
const MODULES: { name: string; figure: string; anchor: string; target: string }[] = [
  {
    name: 'press',
    figure: "press → teacher's first frame",
    anchor: 'janus.js cold join',
    target: 'ratio ≤ 0.8',
  },
  { name: 'startup', figure: 'daemon start → READY=1', anchor: 'empty Nest context', target: '≤ 800 ms' },
  {
    name: 'memory',
    figure: 'daemon idle RSS',
    anchor: 'empty Nest + Fastify',
    target: '≤ 1.3× and ≤ 110 MB in every run',
  },
  {
    name: 'recovery',
    figure: "recovery → teacher's first frame",
    anchor: 'Janus listen / Chromium launch',
    target: '≤ 3 s / ≤ 5 s',
  },
  {
    name: 'fleet',
    figure: 'fleet heartbeats',
    anchor: 'bare Fastify route',
    target: '≥ 5,000/s (SQLite), ≥ 3,000/s (PostgreSQL), p99 ≤ 20 ms',
  },
  {
    name: 'dashboard',
    figure: 'dashboard overview ready, 10,000 boxes',
    anchor: "dashboard's sign-in screen",
    target: '≤ 500 ms',
  },
  { name: 'update', figure: 'update verify + unpack + switch', anchor: '—', target: '≤ 5 s for 50 MB' },
  {
    name: 'media',
    figure: 'box CPU and picture under a 0.3-core cap, per profile',
    anchor: 'pc profile (720p30)',
    target: '≥ 15 fps and ≥ 360 lines at 0.3 core (pi4)',
  },
  {
    name: 'audio',
    figure: 'real sound of the box at the teacher, 300 kbit/s + 10 % loss',
    anchor: 'plain janus.js publisher, same link',
    target: '≥ 97 %',
  },
  {
    name: 'nodes',
    figure: "teacher's first frame and latency across media nodes",
    anchor: 'receiver on the teacher’s node',
    target: NO_TARGET,
  },
  {
    name: 'catchup',
    figure: 'catch-up: bytes per missed minute, a 10-minute gap ready over 1 Mbit/s',
    anchor: 'the recording’s own size / the line time',
    target: NO_TARGET,
  },
  {
    name: 'vm',
    figure: 'VM power on → READY / enrolled / press',
    anchor: 'process-level box',
    target: NO_TARGET,
  },
];

const here = dirname(fileURLToPath(import.meta.url));

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { smoke: { type: 'boolean', default: false }, only: { type: 'string', multiple: true } },
    strict: true,
  });
  const smoke = values.smoke === true;
  const only = values.only ?? [];
  const unknown = only.filter((name) => !MODULES.some((m) => m.name === name));
  if (unknown.length > 0) {
    process.stderr.write(
      `bench: unknown --only ${unknown.join(', ')}; known: ${MODULES.map((m) => m.name).join(', ')}\n`,
    );
    return 2;
  }
  const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);
  const startedAt = new Date();
  const figures: Figure[] = [];
  const failures: string[] = [];
  for (const module of MODULES.filter((m) => only.length === 0 || only.includes(m.name))) {
    const file = join(here, `${module.name}.bench.js`);
    if (!existsSync(file)) {
      log(`skip ${module.name}: ${file} does not exist`);
      figures.push(
        notMeasured(
          module.figure,
          module.anchor,
          module.target,
          `bench/${module.name}.bench.ts is not written yet`,
        ),
      );
      continue;
    }
    const began = performance.now();
    log(`run ${module.name}${smoke ? ' (smoke)' : ''}`);
    try {
      const loaded = (await import(pathToFileURL(file).href)) as BenchModule;
      figures.push(...(await loaded.measure({ smoke, log })));
      log(`done ${module.name} in ${((performance.now() - began) / 1000).toFixed(1)} s`);
    } catch (error) {
      // One broken module must not hide the others' figures; it shows as not measured and fails the run.
      log(`Can't measure ${module.name}: ${reason(error)}`);
      failures.push(module.name);
      figures.push(notMeasured(module.figure, module.anchor, module.target, `failed: ${reason(error)}`));
    }
  }
  const machine = await describeMachine();
  const report = {
    version: VERSION,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    smoke,
    machine,
    figures,
  };
  const dir = join(packageRoot(), 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const file = join(dir, `${stamp}${smoke ? '-smoke' : ''}.json`);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  await writeFile(file, json);
  // latest.json is the last full run (the README's table); a smoke or partial run never replaces it.
  if (only.length === 0) await writeFile(join(dir, smoke ? 'latest-smoke.json' : 'latest.json'), json);
  process.stdout.write(
    `\nMachine: ${machine.cpus.length} × ${machine.cpus[0]?.model ?? 'unknown CPU'}, ${machine.memoryTotalMB} MB, ` +
      `Linux ${machine.kernel}, Node ${machine.node}, ${machine.chromium}, ${machine.janus}\n\n` +
      `${formatTable(figures)}\n\n${formatNotes(figures)}\n\nWrote ${file}\n`,
  );
  // A missed target is a finding, not an error; a module that could not run is.
  return failures.length > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
