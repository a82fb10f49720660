import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import unixDgram from 'unix-dgram';
import { packageRoot } from '../../common/package-root.js';
import { waitFor } from '../../test/helpers/browser.js';

/** The real CLI, as systemd starts it (`npm run build` compiles it into dist/). */
export const CLI = join(packageRoot(), 'bin', 'classbox.js');

/** A notify socket like systemd's: every datagram with the time it arrived (performance.now()). */
export interface NotifySocket {
  readonly path: string;
  readonly messages: { at: number; fields: Record<string, string> }[];
  waitFor(key: string, value: string, timeoutMs: number): Promise<number>;
  close(): void;
}

export function bindNotifySocket(dir: string, name = 'notify.sock'): NotifySocket {
  const path = join(dir, name);
  const messages: NotifySocket['messages'] = [];
  const waiters = new Set<() => void>();
  const socket = unixDgram.createSocket('unix_dgram', (buf: Buffer) => {
    const at = performance.now();
    const fields = Object.fromEntries(
      buf
        .toString()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    messages.push({ at, fields });
    for (const wake of waiters) wake();
  });
  socket.bind(path);
  return {
    path,
    messages,
    waitFor: (key, value, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const hit = messages.find((m) => m.fields[key] === value);
          if (!hit) return false;
          cleanup();
          resolve(hit.at);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${key}=${value} on ${path} within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        const wake = (): void => void check();
        waiters.add(wake);
        check();
      }),
    close: () => socket.close(),
  };
}

export interface Spawned {
  readonly child: ChildProcess;
  /** performance.now() just before spawn. */
  readonly spawnedAt: number;
  output(): string;
  exited: Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnNode(args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer): void => {
    // Only the tail matters for a failure message; a chatty child must not grow this without bound.
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    spawnedAt,
    output: () => out,
    exited,
    stop: async (graceMs = 5000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Resident memory of a process in MB (VmRSS from /proc), or undefined when it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * CPU time a process (all its threads) has used, in seconds: utime + stime from /proc/PID/stat, in
 * clock ticks of 1/100 s (USER_HZ, 100 on Linux for x86-64 and arm64).
 */
export function cpuSeconds(pid: number): number {
  return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/**
 * Field `n` of a `/proc/…/stat` line, numbered as in proc(5) (1 the pid, 2 the command, 3 the state…).
 * The command is in parentheses and may hold spaces and parentheses: the fields resume after the last ')'.
 */
function statField(stat: string, n: number): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[n - 3]);
}

/** utime + stime (fields 14, 15) of a `/proc/…/stat` line (a process's or one thread's), in seconds. */
function statCpuSeconds(stat: string): number {
  return (statField(stat, 14) + statField(stat, 15)) / 100;
}

/** Proportional set size in MB (Pss from smaps_rollup): shared pages counted once across a process tree. */
export function pssMb(pid: number): number | undefined {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = /^Pss:\s+(\d+) kB/m.exec(rollup)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    return statField(readFileSync(`/proc/${pid}/stat`, 'utf8'), 4);
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Every live descendant of `root`. */
export function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentOf(Number(entry));
    if (parent !== undefined) parents.set(Number(entry), parent);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const [pid, parent] of parents) {
      if (parent === current) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

/** The kiosk's Chromium browser process (the one without --type=), a child of the daemon. */
export function kioskBrowserPid(daemonPid: number): number | undefined {
  return descendants(daemonPid).find((pid) => {
    const cmd = commandOf(pid);
    return /chrom/i.test(cmd) && !cmd.includes('--type=');
  });
}

/** Chromium's whole process tree (browser, GPU, renderers, utilities) under the daemon. */
export function chromiumPids(daemonPid: number): number[] {
  return descendants(daemonPid).filter((pid) => /chrom/i.test(commandOf(pid)));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll until `check` returns a truthy value; every 20 ms, finer than the tests, as it times things. */
export function until<T>(
  check: () => Promise<T> | T,
  timeoutMs: number,
  what: string,
  everyMs = 20,
): Promise<NonNullable<T>> {
  return waitFor(check, timeoutMs, what, everyMs);
}

/** The time (epoch ms) of the first JSON log line at or after `from` (epoch ms) whose message starts with `prefix`. */
export function logTime(output: string, prefix: string, from = 0): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; time?: string };
      if (!entry.msg?.startsWith(prefix) || !entry.time) continue;
      const at = Date.parse(entry.time);
      if (at >= from) return at;
    } catch {
      // Not a log line (a partial line at the tail of the buffer).
    }
  }
  return undefined;
}

/** What a process of the box's tree is: the daemon, or Chromium's browser, GPU, renderer or utility. */
function roleOf(pid: number, daemonPid: number): string {
  if (pid === daemonPid) return 'daemon';
  const cmd = commandOf(pid);
  const type = /--type=(\S+)/.exec(cmd)?.[1];
  if (type === undefined) return /chrom/i.test(cmd) ? 'browser' : 'other';
  const sub = /--utility-sub-type=(?:[\w]+\.mojom\.)?(\w+)/.exec(cmd)?.[1];
  return sub ? `${type}:${sub}` : type;
}

/**
 * CPU time so far of every thread of the daemon's tree, in seconds, keyed `role/thread` (thread names
 * as the kernel has them, e.g. `renderer/EncoderQueue`), threads of one name summed: what a window's
 * CPU went to, by subtracting two of these. `realtimeOnly`: only threads on a real-time policy now
 * (SCHED_FIFO or SCHED_RR; Chromium's audio threads).
 */
export function cpuByThread(daemonPid: number, realtimeOnly = false): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of [daemonPid, ...descendants(daemonPid)]) {
    const role = roleOf(pid, daemonPid);
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        // The scheduling policy (field 41): 1 SCHED_FIFO, 2 SCHED_RR; 0, 3, 5 other, batch, idle.
        const policy = statField(stat, 41);
        if (realtimeOnly && policy !== 1 && policy !== 2) continue;
        // Worker pools name their threads with a number; one name per pool.
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '#');
        const key = `${role}/${name}`;
        out.set(key, (out.get(key) ?? 0) + statCpuSeconds(stat));
      } catch {
        // The thread ended between the listing and the read.
      }
    }
  }
  return out;
}

/** Cores per `role/thread` between two `cpuByThread` readings `seconds` apart, largest first. */
export function cpuShares(
  before: Map<string, number>,
  after: Map<string, number>,
  seconds: number,
): { what: string; cores: number }[] {
  return [...after]
    .map(([what, s]) => ({ what, cores: (s - (before.get(what) ?? 0)) / seconds }))
    .filter((e) => e.cores > 0)
    .sort((a, b) => b.cores - a.cores);
}
