import { describe, expect, it } from 'vitest';
import { Signal } from '../../../common/signal.js';
import { SupervisedProcess } from '../../../device/adapters/supervised-process.js';
import { Backoff } from '../../../device/domain/backoff.js';
import {
  ProcessPort,
  type ProcessExit,
  type ProcessLine,
  type ProcessSpec,
  type RunningProcess,
} from '../../../device/ports/process.port.js';
import { FakeClock, flush } from '../../helpers/fake-clock.js';

/** Processes that exit when the test says; each spawn is recorded with its clock time. */
class ScriptedProcesses extends ProcessPort {
  readonly spawns: { at: number; exit: (e: ProcessExit) => void; signals: string[] }[] = [];
  constructor(private readonly clock: FakeClock) {
    super();
  }
  spawn(_pipeline: readonly ProcessSpec[]): RunningProcess {
    let exit!: (e: ProcessExit) => void;
    const exited = new Promise<ProcessExit>((resolve) => (exit = resolve));
    const signals: string[] = [];
    this.spawns.push({ at: this.clock.now(), exit, signals });
    return {
      pids: [1000 + this.spawns.length],
      lines: new Signal<ProcessLine>('t.lines'),
      exited,
      kill: (signal) => void signals.push(signal),
    };
  }
  run(): never {
    throw new Error('unexpected run');
  }
}

function make() {
  const clock = new FakeClock(0);
  const processes = new ScriptedProcesses(clock);
  const sup = new SupervisedProcess(
    'csi-bridge',
    [{ label: 'x', command: 'x', args: [] }],
    processes,
    clock,
    {
      backoff: new Backoff({ initialMs: 100, maxMs: 800, random: () => 1 }),
      stableAfterMs: 10_000,
      stopGraceMs: 3000,
    },
  );
  return { clock, processes, sup };
}

describe('SupervisedProcess restart policy on a fake clock', () => {
  /** Let the newest run exit now and return how long the supervisor waits before the next start. */
  async function failAndTimeRestart(box: ReturnType<typeof make>): Promise<number> {
    const count = box.processes.spawns.length;
    box.processes.spawns.at(-1)!.exit({ code: 1, signal: null });
    await flush();
    const from = box.clock.now();
    while (box.processes.spawns.length === count) await box.clock.advance(1);
    return box.clock.now() - from;
  }

  it('restarts after 100, 200, 400, 800, 800 ms while the program keeps failing', async () => {
    const box = make();
    box.sup.ensureStarted();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) delays.push(await failAndTimeRestart(box));
    expect(delays).toEqual([100, 200, 400, 800, 800]);
  });

  it('starts over from the shortest delay after a run that lasted', async () => {
    const box = make();
    box.sup.ensureStarted();
    expect([await failAndTimeRestart(box), await failAndTimeRestart(box)]).toEqual([100, 200]);
    await box.clock.advance(10_000);
    expect(await failAndTimeRestart(box)).toBe(100);
  });

  it('sends SIGKILL only when SIGTERM was not enough within the grace time', async () => {
    const { clock, processes, sup } = make();
    sup.ensureStarted();
    const stopping = sup.ensureStopped();
    await clock.advance(2999);
    expect(processes.spawns[0]!.signals).toEqual(['SIGTERM']);
    await clock.advance(1);
    expect(processes.spawns[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    processes.spawns[0]!.exit({ code: null, signal: 'SIGKILL' });
    await stopping;
    await clock.advance(10_000);
    expect(processes.spawns).toHaveLength(1);
  });

  it('cancels a pending restart when stopped', async () => {
    const { clock, processes, sup } = make();
    sup.ensureStarted();
    processes.spawns[0]!.exit({ code: 1, signal: null });
    await clock.advance(10);
    await sup.ensureStopped();
    await clock.advance(10_000);
    expect(processes.spawns).toHaveLength(1);
  });
});
