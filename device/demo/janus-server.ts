import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RoomSpec {
  readonly room: number;
  readonly description: string;
  readonly pin?: string;
  readonly publishers?: number;
  /** Per-publisher cap in bit/s; 2 Mbps keeps first-frame latency realistic (DESIGN.md). */
  readonly bitrate?: number;
  /** The room's video codecs in its order of preference, e.g. "vp9,vp8" (Janus's default: vp8). */
  readonly videocodec?: string;
  /**
   * Where the room's recordings go (issue 21): publishers that ask to be recorded (the teacher page with
   * `record=1`) write their `.mjr` files here. The room itself records no one (`record = false`).
   */
  readonly recDir?: string;
}

export interface JanusServerOptions {
  readonly rooms: readonly RoomSpec[];
  readonly wsPort?: number;
  /**
   * `netns`: Janus in its own network namespace behind a veth pair (root only). Janus skips loopback
   * interfaces for ICE (src/ice.c), so on one machine it needs a real interface; a namespace gives it one
   * that stays on this machine, and lets tests cut the link or cap its rate.
   * `host`: Janus on this host, ICE on the default-route interface. `auto`: netns when root.
   */
  readonly network?: 'netns' | 'host' | 'auto';
  readonly janusBinary?: string;
  readonly libDir?: string;
  readonly logFile?: string;
  /** Janus trickles its own candidates instead of putting them in its SDP. */
  readonly fullTrickle?: boolean;
  /**
   * Also serve Janus's admin API over HTTP on this port (`janus.transport.http`, admin endpoint only,
   * at `/admin`), with `adminSecret`: what the fleet checks and creates rooms with (issue 19).
   */
  readonly admin?: { readonly port: number; readonly secret: string };
  /**
   * With `netns`: a second namespace for the teacher, linked to Janus's by its own veth pair, so cutting
   * "the box's link" (setLink) leaves the teacher publishing (issue 21: the recording must go on).
   * Janus offers ICE candidates on both links.
   */
  readonly teacherLink?: boolean;
  /**
   * Route the namespace through this host (netns only), so that Janus servers in sibling namespaces
   * reach each other: the forwarded RTP of a lecture spread over media nodes (issue 19). Forwarding is
   * switched on for this namespace's host-side interface only, never for the machine's others.
   */
  readonly routed?: boolean;
}

/**
 * A namespace's number is claimed machine-wide before its name is used: a file `/run/classbox-netns/<n>`
 * created exclusively, holding the claiming process's pid. Numbers were once drawn from the pid (pid mod
 * 4000 plus a serial), and the stale namespace of that name deleted first: two test workers, or a test run
 * beside a long VM run, drew the same number now and then, and the later one deleted the other's live
 * namespace — its Janus, or a booted box, lost its network mid-test. A claim whose process is gone is
 * skipped, never taken over (two processes taking over one stale claim at once would both own it); `/run`
 * is emptied at boot, with the namespaces.
 */
const NETNS_CLAIMS = '/run/classbox-netns';
const NETNS_NUMBERS = 4000;

function claimNetnsNumber(start: number): number {
  mkdirSync(NETNS_CLAIMS, { recursive: true });
  for (let i = 0; i < NETNS_NUMBERS; i++) {
    const n = (start + i) % NETNS_NUMBERS;
    try {
      writeFileSync(join(NETNS_CLAIMS, String(n)), String(process.pid), { flag: 'wx' });
      return n;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`no free network namespace number: ${NETNS_CLAIMS} holds ${NETNS_NUMBERS} claims`);
}

function releaseNetnsNumber(n: number): void {
  rmSync(join(NETNS_CLAIMS, String(n)), { force: true });
}

/** Whether a namespace or host-side link of number n exists (named as createNetns names them). */
function leftOver(n: number): boolean {
  const names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0]);
  return (
    names.includes(`cbx-janus-${n}`) ||
    names.includes(`cbx-teacher-${n}`) ||
    existsSync(`/sys/class/net/cbxh${n}`)
  );
}

const LIB_DIRS = [
  '/usr/lib/x86_64-linux-gnu/janus',
  '/usr/lib/aarch64-linux-gnu/janus',
  '/usr/lib/janus',
  '/opt/janus/lib/janus',
];

/**
 * A real Janus (Debian's `janus`) with a generated config: only the videoroom plugin and the
 * WebSocket transport, rooms as given. Used by `classbox demo`, the tests and the benchmark.
 */
export class JanusServer {
  private child: ChildProcess | undefined;
  private dir: string | undefined;
  private ns: { name: string; hostIf: string; janusIf: string; hostIp: string; janusIp: string } | undefined;
  private teacherNs: { name: string; janusIf: string } | undefined;
  /** The number this process claimed for its namespaces (claimNetnsNumber), released with them. */
  private netnsNumber: number | undefined;
  private exitPromise: Promise<void> | undefined;
  host = '127.0.0.1';
  readonly wsPort: number;

  constructor(private readonly options: JanusServerOptions) {
    this.wsPort = options.wsPort ?? 8188;
  }

  get url(): string {
    return `ws://${this.host}:${this.wsPort}`;
  }

  /** The admin API's URL, when `admin` was given. */
  get adminUrl(): string | undefined {
    return this.options.admin ? `http://${this.host}:${this.options.admin.port}/admin` : undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get usesNetns(): boolean {
    return this.ns !== undefined;
  }

  /** The namespace Janus runs in and this host's address on its link (a VM run inside it reaches both). */
  get netns(): { name: string; hostIp: string } | undefined {
    return this.ns ? { name: this.ns.name, hostIp: this.ns.hostIp } : undefined;
  }

  /** The teacher's own namespace (`teacherLink`): a process run in it reaches Janus whatever setLink does. */
  get teacherNetns(): string | undefined {
    return this.teacherNs?.name;
  }

  /** The veth pair of the namespace: `hostIf` on this host (the box's uplink leaves by it), `janusIf` inside. */
  get link(): { ns: string; hostIf: string; janusIf: string } | undefined {
    return this.ns ? { ns: this.ns.name, hostIf: this.ns.hostIf, janusIf: this.ns.janusIf } : undefined;
  }

  /** If the process that started Janus ends without stop() (a test timed out), take Janus and the namespace with it. */
  private readonly onExit = (): void => {
    if (this.child) killGroup(this.child, 'SIGKILL');
    if (this.ns) {
      try {
        execFileSync('ip', ['netns', 'del', this.ns.name], { stdio: 'ignore' });
      } catch {
        // Already gone.
      }
    }
    if (this.teacherNs) {
      try {
        execFileSync('ip', ['netns', 'del', this.teacherNs.name], { stdio: 'ignore' });
      } catch {
        // Already gone.
      }
    }
    if (this.netnsNumber !== undefined) releaseNetnsNumber(this.netnsNumber);
  };

  async start(): Promise<void> {
    if (this.child) return;
    process.once('exit', this.onExit);
    if (!this.dir) {
      this.dir = await mkdtemp(join(tmpdir(), 'classbox-janus-'));
      const network = this.options.network ?? 'auto';
      const wantNetns = network === 'netns' || (network === 'auto' && process.getuid?.() === 0);
      if (wantNetns) await this.createNetns();
      await this.writeConfig();
    }
    await this.spawnJanus();
  }

  /** Stop Janus (SIGTERM, then SIGKILL) but keep config and namespace, for `start()` again. */
  async stopProcess(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    killGroup(child, signal);
    const killer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
    await this.exitPromise;
    clearTimeout(killer);
  }

  async stop(): Promise<void> {
    process.off('exit', this.onExit);
    await this.stopProcess();
    if (this.ns) {
      await run('ip', ['netns', 'del', this.ns.name]).catch(() => undefined);
      this.ns = undefined;
    }
    if (this.teacherNs) {
      await run('ip', ['netns', 'del', this.teacherNs.name]).catch(() => undefined);
      this.teacherNs = undefined;
    }
    if (this.netnsNumber !== undefined) {
      // The host-side link goes with the namespace (its veth peer is inside); only then is the number free.
      releaseNetnsNumber(this.netnsNumber);
      this.netnsNumber = undefined;
    }
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  /** Take the box's link to Janus down or up (netns only). */
  async setLink(up: boolean): Promise<void> {
    const ns = this.requireNetns();
    await run('ip', ['link', 'set', ns.hostIf, up ? 'up' : 'down']);
    if (up) await run('ip', ['addr', 'replace', `${ns.hostIp}/30`, 'dev', ns.hostIf]);
  }

  /** Cap what the host sends towards Janus (the box's uplink) to `kbit`; undefined removes the cap. */
  async setUplinkRate(kbit: number | undefined): Promise<void> {
    const ns = this.requireNetns();
    await run('tc', ['qdisc', 'del', 'dev', ns.hostIf, 'root']).catch(() => undefined);
    if (kbit !== undefined) {
      await run('tc', [
        'qdisc',
        'add',
        'dev',
        ns.hostIf,
        'root',
        'tbf',
        'rate',
        `${kbit}kbit`,
        'burst',
        '16kbit',
        'latency',
        '400ms',
      ]);
    }
  }

  private requireNetns(): NonNullable<JanusServer['ns']> {
    if (!this.ns) throw new Error('this Janus runs without a network namespace');
    return this.ns;
  }

  private async createNetns(): Promise<void> {
    // A number no other process holds, and whose names nothing left behind: a namespace or link of that
    // name that exists (left by a process that died) is not ours to delete, so the next number is tried.
    let n = claimNetnsNumber(process.pid % NETNS_NUMBERS);
    while (leftOver(n)) {
      releaseNetnsNumber(n);
      n = claimNetnsNumber(n + 1);
    }
    this.netnsNumber = n;
    const subnet = `10.${200 + (n % 50)}.${Math.floor(n / 50) % 250}`;
    const ns = {
      name: `cbx-janus-${n}`,
      hostIf: `cbxh${n}`,
      janusIf: `cbxj${n}`,
      hostIp: `${subnet}.1`,
      janusIp: `${subnet}.2`,
    };
    await run('ip', ['netns', 'add', ns.name]);
    await run('ip', ['link', 'add', ns.hostIf, 'type', 'veth', 'peer', 'name', ns.janusIf]);
    await run('ip', ['link', 'set', ns.janusIf, 'netns', ns.name]);
    await run('ip', ['addr', 'add', `${ns.hostIp}/30`, 'dev', ns.hostIf]);
    await run('ip', ['link', 'set', ns.hostIf, 'up']);
    await run('ip', ['netns', 'exec', ns.name, 'ip', 'addr', 'add', `${ns.janusIp}/30`, 'dev', ns.janusIf]);
    await run('ip', ['netns', 'exec', ns.name, 'ip', 'link', 'set', ns.janusIf, 'up']);
    await run('ip', ['netns', 'exec', ns.name, 'ip', 'link', 'set', 'lo', 'up']);
    if (this.options.routed) {
      await run('ip', ['netns', 'exec', ns.name, 'ip', 'route', 'add', 'default', 'via', ns.hostIp]);
      // IPv4 forwards what arrives on an interface whose own `forwarding` is on.
      await run('sysctl', ['-q', '-w', `net.ipv4.conf.${ns.hostIf}.forwarding=1`]);
    }
    this.ns = ns;
    this.host = ns.janusIp;
    if (this.options.teacherLink) await this.createTeacherNetns(n);
  }

  /** The teacher's namespace: a veth pair to Janus's namespace, routed to Janus's address on the box's link. */
  private async createTeacherNetns(n: number): Promise<void> {
    const ns = this.ns!;
    const subnet = `10.${150 + (n % 50)}.${Math.floor(n / 50) % 250}`;
    const t = { name: `cbx-teacher-${n}`, teacherIf: `cbxt${n}`, janusIf: `cbxu${n}` };
    await run('ip', ['netns', 'add', t.name]);
    await run('ip', [
      'link',
      'add',
      t.teacherIf,
      'netns',
      t.name,
      'type',
      'veth',
      'peer',
      'name',
      t.janusIf,
      'netns',
      ns.name,
    ]);
    const inNs = (name: string, ...args: string[]) => run('ip', ['netns', 'exec', name, ...args]);
    await inNs(ns.name, 'ip', 'addr', 'add', `${subnet}.1/30`, 'dev', t.janusIf);
    await inNs(ns.name, 'ip', 'link', 'set', t.janusIf, 'up');
    await inNs(t.name, 'ip', 'addr', 'add', `${subnet}.2/30`, 'dev', t.teacherIf);
    await inNs(t.name, 'ip', 'link', 'set', t.teacherIf, 'up');
    await inNs(t.name, 'ip', 'link', 'set', 'lo', 'up');
    // Janus's WebSocket listens on its address on the box's link: delivered locally in its namespace
    // whether that link is up or not.
    await inNs(t.name, 'ip', 'route', 'add', `${ns.janusIp}/32`, 'via', `${subnet}.1`);
    this.teacherNs = { name: t.name, janusIf: t.janusIf };
  }

  private async writeConfig(): Promise<void> {
    const dir = this.dir!;
    const libDir =
      this.options.libDir ?? LIB_DIRS.find((d) => existsSync(join(d, 'plugins', 'libjanus_videoroom.so')));
    if (!libDir)
      throw new Error(
        `can't find Janus's plugins (looked in ${LIB_DIRS.join(', ')}); install the janus package`,
      );
    // Only what the box needs is loaded: folders holding just the videoroom plugin and the WebSocket transport.
    const admin = this.options.admin;
    for (const [sub, lib] of [
      ['plugins', 'libjanus_videoroom.so'],
      ['transports', 'libjanus_websockets.so'],
      ...(admin ? ([['transports', 'libjanus_http.so']] as const) : []),
    ] as const) {
      await mkdir(join(dir, sub), { recursive: true });
      await symlink(join(libDir, sub, lib), join(dir, sub, lib));
    }
    await mkdir(join(dir, 'empty'), { recursive: true });
    const iface = this.ns
      ? [this.ns.janusIf, ...(this.teacherNs ? [this.teacherNs.janusIf] : [])].join(',')
      : defaultInterface();
    await writeFile(
      join(dir, 'janus.jcfg'),
      `general: {
  configs_folder = "${dir}"
  plugins_folder = "${dir}/plugins"
  transports_folder = "${dir}/transports"
  events_folder = "${dir}/empty"
  loggers_folder = "${dir}/empty"
  debug_level = 3
  log_to_stdout = true
${admin ? `  admin_secret = "${admin.secret.replace(/[^A-Za-z0-9_-]/g, '')}"\n` : ''}}
media: {
  rtp_port_range = "20000-40000"
}
nat: {
  ice_enforce_list = "${iface}"
  full_trickle = ${this.options.fullTrickle ? 'true' : 'false'}
  nice_debug = false
}
plugins: {
}
transports: {
}
`,
    );
    await writeFile(
      join(dir, 'janus.transport.websockets.jcfg'),
      `general: {
  json = "plain"
  ws = true
  ws_port = ${this.wsPort}
  ws_ip = "${this.host}"
  wss = false
}
admin: {
  admin_ws = false
}
`,
    );
    if (admin) {
      // The admin endpoint only: the Janus API itself stays on the WebSocket transport.
      await writeFile(
        join(dir, 'janus.transport.http.jcfg'),
        `general: {
  json = "plain"
  http = false
  https = false
}
admin: {
  admin_base_path = "/admin"
  admin_http = true
  admin_port = ${admin.port}
  admin_ip = "${this.host}"
  admin_https = false
}
`,
      );
    }
    const rooms = this.options.rooms
      .map(
        (r) => `room-${r.room}: {
  description = "${r.description.replace(/"/g, '')}"
  publishers = ${r.publishers ?? 10}
  bitrate = ${r.bitrate ?? 2_000_000}
  fir_freq = 10
  notify_joining = true
${r.videocodec ? `  videocodec = "${r.videocodec.replace(/[^a-z0-9,]/g, '')}"\n` : ''}${r.recDir ? `  rec_dir = "${r.recDir.replace(/["\\]/g, '')}"\n` : ''}${r.pin ? `  pin = "${r.pin}"\n` : ''}}`,
      )
      .join('\n');
    await writeFile(join(dir, 'janus.plugin.videoroom.jcfg'), `general: {\n}\n${rooms}\n`);
  }

  private async spawnJanus(): Promise<void> {
    const dir = this.dir!;
    const binary = this.options.janusBinary ?? 'janus';
    const janusArgs = ['-F', dir, '-C', join(dir, 'janus.jcfg')];
    const [cmd, args] = this.ns
      ? ['ip', ['netns', 'exec', this.ns.name, binary, ...janusArgs]]
      : [binary, janusArgs];
    const log = createWriteStream(this.options.logFile ?? join(dir, 'janus.log'), { flags: 'a' });
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.child = child;
    this.exitPromise = new Promise((resolve) => child.once('exit', () => resolve()));
    const spawned = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (error) => resolve(error));
    });
    if (spawned) {
      this.child = undefined;
      throw new Error(`can't start ${binary}: ${spawned.message}`);
    }
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null)
        throw new Error(`Janus exited with code ${child.exitCode}; see ${join(dir, 'janus.log')}`);
      if (await canConnect(this.host, this.wsPort)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`Janus did not listen on ${this.url} within 10 s`);
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The first non-loopback interface with an IPv4 address (Janus can't use loopback for ICE). */
export function defaultInterface(): string {
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    if (addresses?.some((a) => a.family === 'IPv4' && !a.internal)) return name;
  }
  throw new Error(
    'no non-loopback network interface: Janus needs one for ICE (or run as root to use a namespace)',
  );
}
