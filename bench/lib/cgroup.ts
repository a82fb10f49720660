import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const CPU = '/sys/fs/cgroup/cpu';
const CPUACCT = '/sys/fs/cgroup/cpuacct';
/** cgroup v1's largest `cpu.shares` (the kernel's MAX_SHARES, 1 << 18). */
const MAX_SHARES = 262144;

/**
 * A cgroup v1 CPU group for the box's whole process tree (issue 16): a CFS quota caps it at a share of a
 * core (a Pi's budget on this machine), cpuacct counts what it used. It needs an RT budget
 * (`cpu.rt_runtime_us`), or Chromium's renderer and audio service (real-time threads) refuse to move
 * into it (DESIGN.md, harness facts).
 */
export class CpuGroup {
  private constructor(private readonly name: string) {}

  static async create(name: string): Promise<CpuGroup> {
    for (const root of [CPU, CPUACCT]) await mkdir(join(root, name), { recursive: true });
    await writeFile(join(CPU, name, 'cpu.rt_runtime_us'), '20000').catch(() => undefined);
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
