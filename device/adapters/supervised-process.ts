import { reason } from '../../common/errors.js';
import { createLogger, type Logger } from '../../common/logger.js';
import { Signal } from '../../common/signal.js';
import { Backoff } from '../domain/backoff.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import {
  ProcessPort,
  type ProcessExit,
  type ProcessLine,
  type ProcessSpec,
  type RunningProcess,
} from '../ports/process.port.js';

export interface SupervisedProcessOptions {
  /** How long SIGTERM may take before SIGKILL. */
  readonly stopGraceMs?: number;
  readonly backoff?: Backoff;
  /** A run this long counts as healthy: the next failure restarts after the shortest delay again. */
  readonly stableAfterMs?: number;
}

/**
 * Keeps a child pipeline running, as kvmd supervises its helpers: idempotent ensureStarted /
 * ensureStopped, SIGTERM then SIGKILL to the process group, output relayed to the log line by
 * line, restart with backoff after an unexpected exit.
 */
export class SupervisedProcess {
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly stopGraceMs: number;
  private readonly stableAfterMs: number;
  private current: RunningProcess | undefined;
  private startedAt = 0;
  private wanted = false;
  private restartTimer: TimerHandle | undefined;
  private starts = 0;

  /** A (re)start happened; carries the number of starts so far. */
  readonly started = new Signal<number>('supervised.started');
  readonly exited = new Signal<ProcessExit>('supervised.exited');
  /** Every output line of every run, as it is logged. */
  readonly lines = new Signal<ProcessLine>('supervised.lines');

  constructor(
    readonly name: string,
    private readonly pipeline: readonly ProcessSpec[],
    private readonly processes: ProcessPort,
    private readonly clock: ClockPort,
    options: SupervisedProcessOptions = {},
  ) {
    this.log = createLogger(`SupervisedProcess:${name}`);
    this.backoff = options.backoff ?? new Backoff({ initialMs: 500, maxMs: 30_000 });
    this.stopGraceMs = options.stopGraceMs ?? 3000;
    this.stableAfterMs = options.stableAfterMs ?? 10_000;
  }

  isRunning(): boolean {
    return this.current !== undefined;
  }

  pids(): readonly number[] {
    return this.current?.pids ?? [];
  }

  ensureStarted(): void {
    this.wanted = true;
    if (this.current || this.restartTimer) return;
    this.start();
  }

  async ensureStopped(): Promise<void> {
    this.wanted = false;
    this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const running = this.current;
    if (!running) return;
    running.kill('SIGTERM');
    let timer: TimerHandle | undefined;
    const gaveUp = await Promise.race([
      running.exited.then(() => false),
      new Promise<boolean>(
        (resolve) => (timer = this.clock.setTimeout(() => resolve(true), this.stopGraceMs)),
      ),
    ]);
    this.clock.clearTimeout(timer);
    if (gaveUp) {
      this.log.warn(
        `Killing process name=${this.name} pids=${running.pids.join(',')}: no exit ${this.stopGraceMs} ms after SIGTERM`,
      );
      running.kill('SIGKILL');
      await running.exited;
    }
    this.log.info(`Stopped process name=${this.name}`);
  }

  private start(): void {
    this.restartTimer = undefined;
    let running: RunningProcess;
    try {
      running = this.processes.spawn(this.pipeline);
    } catch (error) {
      this.log.error(`Can't start process name=${this.name}: ${reason(error)}`);
      this.scheduleRestart();
      return;
    }
    this.current = running;
    this.startedAt = this.clock.now();
    this.starts += 1;
    this.log.info(`Started process name=${this.name} pids=${running.pids.join(',')} starts=${this.starts}`);
    running.lines.on(this.name, (line) => {
      this.log.info({ proc: line.label, stream: line.stream }, line.line);
      this.lines.emit(line);
    });
    void running.exited.then((exit) => this.onExit(running, exit));
    this.started.emit(this.starts);
  }

  private onExit(running: RunningProcess, exit: ProcessExit): void {
    if (this.current !== running) return;
    this.current = undefined;
    running.lines.clear();
    this.exited.emit(exit);
    if (!this.wanted) return;
    const how = exit.error ?? (exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`);
    if (this.clock.now() - this.startedAt >= this.stableAfterMs) this.backoff.reset();
    this.log.warn(`Lost process name=${this.name}: exited with ${how}`);
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (!this.wanted) return;
    const delay = this.backoff.next();
    this.log.info(`Restarting process name=${this.name} in ${delay} ms`);
    this.restartTimer = this.clock.setTimeout(() => this.start(), delay);
  }
}
