import { execFile } from 'node:child_process';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { JanusServer } from '../../device/demo/janus-server.js';

const run = promisify(execFile);

const NET_CLS = '/sys/fs/cgroup/net_cls';

/**
 * A bad rural uplink for chosen processes only (issue 16), on the veth pair between this host and Janus's
 * namespace: each group of processes (a box's Chromium, a plain janus.js publisher) gets its own htb rate
 * cap and the same random loss, and everything else (the teacher) keeps a clean link. The kernel here has
 * no netem (DESIGN.md, harness facts), so:
 *
 * - a net_cls cgroup per group gives its sockets a class id; on this host's output hook nftables turns that
 *   id into the packet's priority (htb's class, `1:<minor>`) and marks its DSCP (which, unlike a mark,
 *   survives the move into Janus's namespace);
 * - htb on the host's end of the veth caps each class;
 * - inside Janus's namespace, on the input hook (a drop on output is an EPERM the sender sees, not loss),
 *   nftables drops that DSCP's UDP at random (`numgen random mod 100 < N`).
 *
 * Processes join a group by being started while the test process is in it (children inherit the cgroup),
 * see `startIn`.
 */
export class BadLink {
  private readonly groups: { name: string; minor: number }[] = [];
  private readonly table: string;
  private readonly link: NonNullable<JanusServer['link']>;

  constructor(janus: JanusServer) {
    const link = janus.link;
    if (!link) throw new Error('a bad link needs Janus in its own network namespace (run as root)');
    this.link = link;
    this.table = `cbx_badlink_${process.pid}`;
  }

  /** Set up htb, the marking and the loss; `groups` names each capped group. */
  async open(groups: readonly string[], opts: { kbit: number; lossPct: number }): Promise<void> {
    await ensureNetCls();
    const dev = this.link.hostIf;
    await run('tc', ['qdisc', 'del', 'dev', dev, 'root']).catch(() => undefined);
    await run('tc', ['qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '99']);
    await run('tc', htbClass(dev, '1:99', '1gbit'));
    const rules: string[] = [];
    for (const [i, group] of groups.entries()) {
      const minor = 0x10 + i;
      const name = `cbx-${process.pid}-${group}`;
      await mkdir(join(NET_CLS, name), { recursive: true });
      await writeFile(join(NET_CLS, name, 'net_cls.classid'), String(0x10000 + minor));
      this.groups.push({ name, minor });
      // An explicit burst: htb's computed default is too small at 300 kbit/s on this kernel (DESIGN.md).
      await run('tc', htbClass(dev, `1:${minor.toString(16)}`, `${opts.kbit}kbit`));
      // A short queue, as a rural DSL modem has: a long one would only add seconds of delay.
      await run('tc', [
        'qdisc',
        'add',
        'dev',
        dev,
        'parent',
        `1:${minor.toString(16)}`,
        'bfifo',
        'limit',
        String(Math.max(6000, Math.round((opts.kbit * 1000 * 0.3) / 8))),
      ]);
      rules.push(
        `meta cgroup ${0x10000 + minor} meta l4proto udp meta priority set 1:${minor.toString(16)} ip dscp set cs1`,
      );
    }
    await nft(
      [],
      `table inet ${this.table} {\n chain out {\n  type filter hook output priority 0;\n  ${rules.join('\n  ')}\n }\n}\n`,
    );
    await nft(
      ['netns', 'exec', this.link.ns],
      `table inet ${this.table} {\n chain in {\n  type filter hook input priority 0;\n  iifname "${this.link.janusIf}" ip dscp cs1 meta l4proto udp numgen random mod 100 < ${opts.lossPct} drop\n }\n}\n`,
    );
  }

  /**
   * Run `start` with this test process in the group, so every process it spawns (a Chromium and its
   * children) is in it, then take the test process back out.
   */
  async startIn<T>(group: string, start: () => Promise<T>): Promise<T> {
    const g = this.groups.find((x) => x.name === `cbx-${process.pid}-${group}`);
    if (!g) throw new Error(`no bad-link group ${group}`);
    await writeFile(join(NET_CLS, g.name, 'cgroup.procs'), String(process.pid));
    try {
      return await start();
    } finally {
      await writeFile(join(NET_CLS, 'cgroup.procs'), String(process.pid));
    }
  }

  /**
   * Random loss, and optionally a rate cap, on what Janus sends to this host: the downlink of every
   * receiver here (a test that uses it keeps the other participants from subscribing). The loss is dropped
   * on this host's input hook (silent, as a lossy line is); the cap is tbf on Janus's end of the veth.
   * `undefined` restores a clean downlink.
   */
  async setDownlink(opts: { lossPct: number; kbit?: number } | undefined): Promise<void> {
    const table = `${this.table}_down`;
    await run('nft', ['delete', 'table', 'inet', table]).catch(() => undefined);
    await run('ip', [
      'netns',
      'exec',
      this.link.ns,
      'tc',
      'qdisc',
      'del',
      'dev',
      this.link.janusIf,
      'root',
    ]).catch(() => undefined);
    if (!opts) return;
    if (opts.lossPct > 0)
      await nft(
        [],
        `table inet ${table} {\n chain in {\n  type filter hook input priority 0;\n  iifname "${this.link.hostIf}" meta l4proto udp numgen random mod 100 < ${opts.lossPct} drop\n }\n}\n`,
      );
    if (opts.kbit !== undefined)
      await run('ip', [
        'netns',
        'exec',
        this.link.ns,
        'tc',
        'qdisc',
        'add',
        'dev',
        this.link.janusIf,
        'root',
        'tbf',
        'rate',
        `${opts.kbit}kbit`,
        'burst',
        '16kbit',
        'latency',
        '400ms',
      ]);
  }

  async close(): Promise<void> {
    await this.setDownlink(undefined);
    await run('tc', ['qdisc', 'del', 'dev', this.link.hostIf, 'root']).catch(() => undefined);
    await run('nft', ['delete', 'table', 'inet', this.table]).catch(() => undefined);
    await run('ip', ['netns', 'exec', this.link.ns, 'nft', 'delete', 'table', 'inet', this.table]).catch(
      () => undefined,
    );
    for (const g of this.groups) {
      // Processes still in the group (a browser not yet gone) go back to the root group first.
      const procs = await readFile(join(NET_CLS, g.name, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const pid of procs.split('\n').filter(Boolean))
        await writeFile(join(NET_CLS, 'cgroup.procs'), pid).catch(() => undefined);
      await rmdir(join(NET_CLS, g.name)).catch(() => undefined);
    }
  }
}

/**
 * A plain rate cap on everything leaving this host by `dev` (no classes, no loss): the rural line the
 * booted box downloads its updates over. Returns what undoes it.
 */
export async function capLink(dev: string, kbit: number): Promise<() => Promise<void>> {
  await run('tc', ['qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '10']);
  await run('tc', htbClass(dev, '1:10', `${kbit}kbit`));
  return async () => {
    await run('tc', ['qdisc', 'del', 'dev', dev, 'root']).catch(() => undefined);
  };
}

/** Change the rate of a link capped by `capLink`, at once and without dropping what is queued. */
export async function setLinkRate(dev: string, kbit: number): Promise<void> {
  await run('tc', htbClass(dev, '1:10', `${kbit}kbit`, 'change'));
}

function htbClass(dev: string, classid: string, rate: string, verb: 'add' | 'change' = 'add'): string[] {
  return [
    'class',
    verb,
    'dev',
    dev,
    'parent',
    '1:',
    'classid',
    classid,
    'htb',
    'rate',
    rate,
    'ceil',
    rate,
    'burst',
    '15k',
    'cburst',
    '15k',
  ];
}

async function nft(prefix: string[], ruleset: string): Promise<void> {
  const args = [...prefix, ...(prefix.length ? ['nft'] : []), '-f', '-'];
  const cmd = prefix.length ? 'ip' : 'nft';
  await new Promise<void>((resolve, reject) => {
    const child = execFile(cmd, args, (error, _stdout, stderr) =>
      error ? reject(new Error(`nft failed: ${stderr || error.message}`)) : resolve(),
    );
    child.stdin?.end(ruleset);
  });
}

/** Mount the net_cls controller (cgroup v1) if no one has yet. */
async function ensureNetCls(): Promise<void> {
  const mounts = await readFile('/proc/mounts', 'utf8');
  if (mounts.split('\n').some((l) => l.split(' ')[1] === NET_CLS)) return;
  await mkdir(NET_CLS, { recursive: true });
  await run('mount', ['-t', 'cgroup', '-o', 'net_cls', 'net_cls', NET_CLS]).catch(async (error: unknown) => {
    // Mounted meanwhile by another test run: fine.
    const again = await readFile('/proc/mounts', 'utf8');
    if (!again.split('\n').some((l) => l.split(' ')[1] === NET_CLS)) throw error;
  });
}
