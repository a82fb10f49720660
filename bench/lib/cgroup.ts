import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const CPU = '/sys/fs/cgroup/cpu';
const CPUACCT = '/sys/fs/cgroup/cpuacct';
/** cgroup v1's largest `cpu.shares` (the kernel's MAX_SHARES, 1 << 18). */
const MAX_SHARES = 262144;

/**
 * A cgroup v1 CPU group for the box's whole process tree (issue 16): a CFS quota caps it at a share of a
 * core (a Pi's budget on this machine), cpuacct counts what it used.
 *
 * Real-time threads: Chromium puts its audio threads (the renderer's playout, the audio service's devices
 * and echo canceller) on SCHED_RR where it may, as on the box (classbox.service grants LimitRTPRIO for
 * it). A cgroup v1 group refuses such threads without an RT budget (`cpu.rt_runtime_us`, EINVAL), and the
 * budget is granted per RT period: with the kernel's 1 s period and 20 ms of it (this bench until
 * 1 December) the audio threads spent it within the first part of each second and were stopped for the
 * rest. Every received sound stream then waited 0.4–1.2 s in its jitter buffer even without a CFS cap, and
 * lip sync held the teacher's picture back to it (docs/media.md). So the RT budget is granted like the CFS
 * quota: the same share of the same short period.
 */
export class CpuGroup {
  private constructor(private readonly name: string) {}

  /**
   * `realtime`: the share of a core the group's real-time threads may take, per `periodUs`. It bounds
   * them (a runaway RT thread would otherwise take what the CFS quota does not count); what they use is
   * counted by cpuacct with the rest.
   */
  static async create(name: string, realtime: { cores: number; periodUs: number }): Promise<CpuGroup> {
    for (const root of [CPU, CPUACCT]) await mkdir(join(root, name), { recursive: true });
    // The runtime first, while it fits in the default 1 s period; then the period (checked against it).
    // A kernel without RT group scheduling has neither file, and lets real-time threads into any group.
    const runtimeUs = Math.round(realtime.cores * realtime.periodUs);
    await writeIfPresent(join(CPU, name, 'cpu.rt_runtime_us'), String(runtimeUs));
    await writeIfPresent(join(CPU, name, 'cpu.rt_period_us'), String(realtime.periodUs));
    // The quota must be the only limit. With the default weight (1024) the group lost the CPU it was
    // granted to busier neighbours (the lead's QEMU VM at nice -8 on this machine) and measured less than
    // its 0.3 core; the largest weight makes the scheduler serve it first, up to its quota.
    await writeFile(join(CPU, name, 'cpu.shares'), String(MAX_SHARES));
    return new CpuGroup(name);
  }

  /**
   * Cap at `cores` of one core (undefined: no cap), granted per `periodUs`: the group runs its share of
   * each period, then waits for the next one.
   */
  async cap(cores: number | undefined, periodUs = 100_000): Promise<void> {
    // Uncapped while the period changes: the kernel checks each write against the other value.
    await writeFile(join(CPU, this.name, 'cpu.cfs_quota_us'), '-1');
    await writeFile(join(CPU, this.name, 'cpu.cfs_period_us'), String(periodUs));
    if (cores !== undefined)
      await writeFile(join(CPU, this.name, 'cpu.cfs_quota_us'), String(Math.round(cores * periodUs)));
  }

  /** Move processes in (each with all its threads); a process already gone is skipped. */
  async add(pids: readonly number[]): Promise<void> {
    for (const pid of pids) {
      for (const root of [CPU, CPUACCT])
        await writeFile(join(root, this.name, 'cgroup.procs'), String(pid)).catch((error: unknown) => {
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        });
    }
  }

  /** CPU time used by the group so far, in seconds. */
  async usageSeconds(): Promise<number> {
    return Number(await readFile(join(CPUACCT, this.name, 'cpuacct.usage'), 'utf8')) / 1e9;
  }

  /** Move whatever is left back to the root groups and remove the group. */
  async remove(): Promise<void> {
    for (const root of [CPU, CPUACCT]) {
      const left = await readFile(join(root, this.name, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const pid of left.split('\n').filter(Boolean))
        await writeFile(join(root, 'cgroup.procs'), pid).catch(() => undefined);
      await rmdir(join(root, this.name)).catch(() => undefined);
    }
  }
}

async function writeIfPresent(file: string, value: string): Promise<void> {
  await writeFile(file, value, { flag: 'r+' }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  });
}
