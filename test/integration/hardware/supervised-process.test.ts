import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeProcesses } from '../../../device/adapters/process.node.js';
import { SupervisedProcess } from '../../../device/adapters/supervised-process.js';
import { SystemClock } from '../../../device/adapters/clock.system.js';
import { Backoff } from '../../../device/domain/backoff.js';
import type { ProcessLine, ProcessSpec } from '../../../device/ports/process.port.js';

const bin = join(import.meta.dirname, '../../fixtures/hardware/bin');
const rpicam = (...args: string[]): ProcessSpec => ({
  label: 'rpicam-vid',
  command: process.execPath,
  args: [join(bin, 'fake-rpicam-vid.mjs'), ...args],
});
const ffmpeg: ProcessSpec = {
  label: 'ffmpeg',
  command: process.execPath,
  args: [join(bin, 'fake-ffmpeg.mjs'), '/dev/video10'],
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const running: SupervisedProcess[] = [];
function supervise(
  pipeline: ProcessSpec[],
  stopGraceMs = 3000,
): { sup: SupervisedProcess; lines: ProcessLine[] } {
  const sup = new SupervisedProcess('csi-bridge', pipeline, new NodeProcesses(), new SystemClock(), {
    stopGraceMs,
    backoff: new Backoff({ initialMs: 20, maxMs: 40, random: () => 1 }),
  });
  running.push(sup);
  const lines: ProcessLine[] = [];
  return { sup, lines };
}

function collect(
  sup: SupervisedProcess,
  lines: ProcessLine[],
  until: (l: ProcessLine) => boolean,
): Promise<void> {
  return new Promise((resolve) =>
    sup.lines.on('test', (line) => {
      lines.push(line);
      if (until(line)) resolve();
    }),
  );
}

afterEach(async () => {
  for (const sup of running.splice(0)) await sup.ensureStopped();
});

describe('SupervisedProcess with real child processes', () => {
  it('pipes rpicam-vid into ffmpeg and relays both programs output line by line', async () => {
    const { sup, lines } = supervise([rpicam(), ffmpeg]);
    sup.ensureStarted();
    await collect(sup, lines, (l) => l.line === 'wrote frame 3 to /dev/video10');
    expect(lines).toContainEqual({
      label: 'rpicam-vid',
      stream: 'stderr',
      line: 'Mode selection for 1280:720:12:P',
    });
    expect(lines).toContainEqual({
      label: 'ffmpeg',
      stream: 'stderr',
      line: 'wrote frame 1 to /dev/video10',
    });
    expect(sup.pids()).toHaveLength(2);
  });

  it('is idempotent: a second ensureStarted does not start a second copy', async () => {
    const { sup } = supervise([rpicam()]);
    sup.ensureStarted();
    const pids = sup.pids();
    sup.ensureStarted();
    expect(sup.pids()).toEqual(pids);
  });

  it('restarts a pipeline that exits by itself', async () => {
    const { sup } = supervise([rpicam('--frames', '2'), ffmpeg]);
    const thirdStart = new Promise<void>((resolve) =>
      sup.started.on('test', (n) => {
        if (n === 3) resolve();
      }),
    );
    sup.ensureStarted();
    await thirdStart;
    expect(sup.isRunning()).toBe(true);
  });

  it('stops with SIGTERM and does not restart afterwards', async () => {
    const { sup, lines } = supervise([rpicam(), ffmpeg]);
    sup.ensureStarted();
    await collect(sup, lines, (l) => l.line.startsWith('wrote frame'));
    const pids = sup.pids();
    let starts = 0;
    sup.started.on('count', () => void starts++);
    await sup.ensureStopped();
    expect(pids.filter(alive)).toEqual([]);
    expect(sup.isRunning()).toBe(false);
    await sup.ensureStopped();
    expect(starts).toBe(0);
  });

  it('kills a program that ignores SIGTERM, and whatever it forked, after the grace time', async () => {
    const { sup, lines } = supervise([rpicam('--ignore-sigterm', '--fork')], 300);
    sup.ensureStarted();
    await collect(sup, lines, (l) => l.line === 'frame 1');
    const grandchild = Number(lines.find((l) => l.line.startsWith('grandchild '))!.line.split(' ')[1]);
    expect(alive(grandchild)).toBe(true);
    const [pid] = sup.pids();
    await sup.ensureStopped();
    expect(alive(pid!)).toBe(false);
    await expect.poll(() => alive(grandchild)).toBe(false);
  });

  it('keeps retrying a program that is not installed, and stops retrying when told', async () => {
    const { sup } = supervise([{ label: 'rpicam-vid', command: '/nonexistent/rpicam-vid', args: [] }]);
    const exits: (string | undefined)[] = [];
    const twoFailures = new Promise<void>((resolve) =>
      sup.exited.on('test', (exit) => {
        exits.push(exit.error);
        if (exits.length === 2) resolve();
      }),
    );
    sup.ensureStarted();
    await twoFailures;
    expect(exits[0]).toContain('ENOENT');
    await sup.ensureStopped();
    expect(sup.isRunning()).toBe(false);
  });
});
