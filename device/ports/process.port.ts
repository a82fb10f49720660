import type { Signal } from '../../common/signal.js';
import { ClassboxError } from '../../common/errors.js';

/** One program and its argument array; never a shell string. */
export interface ProcessSpec {
  /** Short name for logs, e.g. "rpicam-vid". */
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
}

export interface ProcessLine {
  readonly label: string;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** Set when the program could not be started at all (e.g. not installed). */
  readonly error?: string;
}

/** A started pipeline: each program in its own process group, stdout of one feeding the next. */
export interface RunningProcess {
  readonly pids: readonly number[];
  /** Every line the programs print (the last one's stdout, everyone's stderr). */
  readonly lines: Signal<ProcessLine>;
  /** Settles once every program of the pipeline has exited; the first exit ends the others. */
  readonly exited: Promise<ProcessExit>;
  /** Send a signal to every process group of the pipeline (children of children included). */
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class ProcessError extends ClassboxError<'E-PROCESS'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E-PROCESS', message, options);
  }
}

/** Child processes: long-running pipelines (the CSI bridge) and short commands (device listings). */
export abstract class ProcessPort {
  abstract spawn(pipeline: readonly ProcessSpec[]): RunningProcess;
  /** Run to completion and collect the output; rejects with ProcessError if it cannot start or times out. */
  abstract run(spec: ProcessSpec, timeoutMs: number): Promise<RunResult>;
}
