import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Signal } from '../../common/signal.js';
import {
  ProcessError,
  ProcessPort,
  type ProcessExit,
  type ProcessLine,
  type ProcessSpec,
  type RunResult,
  type RunningProcess,
} from '../ports/process.port.js';

const MAX_RUN_OUTPUT = 1024 * 1024;

/** node:child_process behind the ProcessPort: argument arrays only, each program in its own process group. */
export class NodeProcesses extends ProcessPort {
  spawn(pipeline: readonly ProcessSpec[]): RunningProcess {
    if (pipeline.length === 0) throw new ProcessError('an empty pipeline cannot be started');
    const lines = new Signal<ProcessLine>(`process.${pipeline.map((p) => p.label).join('|')}.lines`);
    const children: ChildProcess[] = [];
    let upstream: Readable | null = null;
    pipeline.forEach((spec, i) => {
      const last = i === pipeline.length - 1;
      const child = spawn(spec.command, [...spec.args], {
        // detached: setsid(), so the whole group can be signalled, including what the program forks.
        detached: true,
        stdio: [upstream ?? 'ignore', 'pipe', 'pipe'],
      });
      // The next program now holds its own copy of the pipe: drop ours so nothing here reads
      // (and steals) frames, and so the upstream pipe closes when its writer exits.
      upstream?.destroy();
      relay(child.stderr, spec.label, 'stderr', lines);
      if (last) relay(child.stdout, spec.label, 'stdout', lines);
      upstream = last ? null : child.stdout;
      children.push(child);
    });
    const kill = (signal: 'SIGTERM' | 'SIGKILL'): void => {
      for (const child of children) {
        if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
        try {
          process.kill(-child.pid, signal);
        } catch {
          // ESRCH: the group is already gone.
        }
      }
    };
    const exits = children.map(
      (child, i) =>
        new Promise<ProcessExit>((resolve) => {
          child.once('error', (error) => {
            resolve({ code: null, signal: null, error: `${pipeline[i]!.label}: ${error.message}` });
          });
          // 'close' waits for the child's stdio to end; the piped stdout of an upstream program is
          // read by the next program, not here, so only 'exit' tells when it ended.
          child.once(i === children.length - 1 ? 'close' : 'exit', (code, signal) =>
            resolve({ code, signal }),
          );
        }),
    );
    // A pipeline is only useful whole: when one program ends, end the others.
    void Promise.race(exits).then(() => kill('SIGTERM'));
    const exited = Promise.all(exits).then(async () => Promise.race(exits));
    return {
      pids: children.map((c) => c.pid).filter((pid): pid is number => pid !== undefined),
      lines,
      exited,
      kill,
    };
  }

  run(spec: ProcessSpec, timeoutMs: number): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(spec.command, [...spec.args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on(
        'data',
        (chunk: Buffer) => (stdout = (stdout + chunk.toString('utf8')).slice(-MAX_RUN_OUTPUT)),
      );
      child.stderr.on(
        'data',
        (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-MAX_RUN_OUTPUT)),
      );
      const timer = setTimeout(() => {
        if (child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        reject(new ProcessError(`${spec.label} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new ProcessError(`${spec.label} could not be started`, { cause: error }));
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }
}

function relay(
  stream: Readable | null,
  label: string,
  name: 'stdout' | 'stderr',
  lines: Signal<ProcessLine>,
): void {
  if (!stream) return;
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) =>
    lines.emit({ label, stream: name, line }),
  );
}
