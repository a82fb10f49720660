import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../cli/classbox.js';
import { generateAdminToken } from '../../provisioning/services/admin-auth.service.js';
import { packageRoot } from '../../common/package-root.js';
import type { DeviceStatus } from '../../device/services/status.service.js';
import { startFleetServer, type RunningFleetServer } from '../../provisioning/fleet-server.js';
import { waitFor } from '../helpers/browser.js';
import { BOX_NAME, Classroom, ROOM } from '../helpers/classroom.js';
import { freePort } from '../helpers/ports.js';
import { BoxVm } from '../helpers/vm.js';

const run = promisify(execFile);

export const REPO = packageRoot();
export const ARTIFACTS = join(REPO, 'test-artifacts', 'vm');
export const DEVICE_ID = 'jx-ruijin-01';
/** A fresh credential a run, in the form the fleet requires (issue 13). */
export const ADMIN = generateAdminToken();

/** The image the system test boots: CLASSBOX_VM_IMAGE, else what `images/build-vm-image` writes by default. */
export function vmImage(): string {
  return process.env.CLASSBOX_VM_IMAGE ?? join(REPO, 'dist', 'vm', 'classbox-amd64.img');
}

/**
 * The release key pair made for this image by scripts/test-system.sh: the image trusts the public half
 * (build-vm-image --release-keys), the update test signs with the private half. Never a real key.
 */
export function vmReleaseKeyDir(): string {
  return process.env.CLASSBOX_VM_RELEASE_KEYS ?? join(dirname(vmImage()), 'test-release-key');
}

/**
 * The VM runs under TCG on two shared cores, tens of times slower than a Pi 4: the daemon's first start
 * (Node loading, then Chromium) takes minutes there, past the unit's 90 s TimeoutStartSec. Only the VM
 * gets a longer one, and a watchdog that outlasts Chromium's first page load there, from outside: a drop-in passed as a systemd credential on the kernel command line
 * (systemd.system-credentials(7), `systemd.unit-dropin.*`, systemd ≥ 256). The image is unchanged.
 */
const VM_START_DROP_IN = '[Service]\nTimeoutStartSec=15min\nWatchdogSec=150s\n';

function unitDropIn(unit: string, text: string): string {
  return `systemd.set_credential_binary=systemd.unit-dropin.${unit}:${Buffer.from(text).toString('base64')}`;
}

export interface AdminDevice {
  online: boolean;
  state: string | null;
  version: string | null;
  health: Record<string, { status: string; code?: string; detail?: string }>;
  vitals: { uptimeSec?: number; board?: string } | null;
}

/**
 * The whole system on one machine: a Janus in its network namespace, the fleet server on this host's
 * address in that namespace's link, a centre and an enrolment seed made with the CLI as IT would, the
 * image flashed with provisioning/flash onto a disk file, and the VM powered on inside the namespace.
 * The namespace has no default route: the guest reaches Janus and the fleet server, nothing else.
 */
export class VmSystem {
  classroom!: Classroom;
  fleet!: RunningFleetServer;
  vm!: BoxVm;
  work!: string;
  disk!: string;
  /** Host times (Date.now()) of what the box did, watched from outside from power-on. */
  readyAt: Promise<number> | undefined;
  enrolledAt: Promise<number> | undefined;
  flashMs = 0;
  private watching = true;

  static async open(): Promise<VmSystem> {
    const s = new VmSystem();
    const image = vmImage();
    if (!existsSync(image))
      throw new Error(
        `no VM image at ${image}: build it with images/build-vm-image --deb dist/deb/classbox_<version>_amd64.deb --device-config test/system/vm-device.json (or set CLASSBOX_VM_IMAGE)`,
      );
    await mkdir(ARTIFACTS, { recursive: true });
    try {
      await s.prepare(image);
    } catch (error) {
      // Whatever was started before the failure (Janus, the fleet server) must not outlive it.
      await s.close().catch(() => undefined);
      throw error;
    }
    return s;
  }

  private async prepare(image: string): Promise<void> {
    // The disk file is as large as the image: on disk, not in a RAM-backed /tmp.
    this.work = await mkdtemp(join(process.env.CLASSBOX_VM_WORK ?? '/var/tmp', 'classbox-vm-system-'));
    this.classroom = await Classroom.open([{ room: ROOM, description: 'vm class', bitrate: 1_000_000 }]);
    const netns = this.classroom.janus.netns;
    if (!netns) throw new Error('the VM system test needs Janus in a network namespace (run as root)');
    this.fleet = await startFleetServer({
      db: join(this.work, 'fleet.db'),
      port: await freePort(),
      host: netns.hostIp,
      firstAdminToken: ADMIN,
      // The guest reaches the fleet over the test's own link, in plain http as a development network
      // may (issue 13): the seed carries the same permission.
      allowInsecureHttp: true,
      // The public key the image trusts, when the image was built with one (the update test needs it).
      trustedReleaseKeys: existsSync(join(vmReleaseKeyDir(), 'release.pub.pem'))
        ? [await readFile(join(vmReleaseKeyDir(), 'release.pub.pem'), 'utf8')]
        : [],
    });
    await this.createCentre();
    const seed = await this.mintSeed(DEVICE_ID);
    this.disk = join(this.work, 'disk.img');
    const flashStart = Date.now();
    await run(
      join(REPO, 'provisioning', 'flash'),
      ['--image', image, '--target', this.disk, '--seed', seed],
      {
        maxBuffer: 1 << 20,
      },
    );
    this.flashMs = Date.now() - flashStart;
  }

  private async cli(...args: string[]): Promise<void> {
    const code = await main(['fleet', ...args]);
    // The CLI reports through process.exitCode, which would outlive it.
    process.exitCode = undefined;
    if (code !== 0) throw new Error(`classbox fleet ${args.slice(0, 2).join(' ')} exited with ${code}`);
  }

  /** IT's first step: the centre and its room, with the CLI on the fleet's database. */
  private async createCentre(): Promise<void> {
    const db = join(this.work, 'fleet.db');
    await this.cli(
      'centre',
      'create',
      '--db',
      db,
      '--id',
      'jx-ruijin',
      '--name',
      BOX_NAME,
      '--region',
      '江西',
      '--janus-url',
      this.classroom.janus.url,
      '--room',
      String(ROOM),
    );
  }

  /** A single-use enrolment token for box `deviceId`, written as its seed; returns the seed's path. */
  async mintSeed(deviceId: string): Promise<string> {
    const db = join(this.work, 'fleet.db');
    await this.cli(
      'token',
      'create',
      '--db',
      db,
      '--centre',
      'jx-ruijin',
      '--expires',
      '1d',
      '--device-id',
      deviceId,
      '--fleet-url',
      this.fleet.url,
      '--allow-insecure-http',
      '--out',
      join(this.work, 'seeds'),
    );
    return join(this.work, 'seeds', deviceId, 'classbox-enrol.json');
  }

  /** Power on, and start watching from outside for READY=1 (systemd's console line) and enrolment. */
  async powerOn(serialLog = join(ARTIFACTS, 'serial.log')): Promise<void> {
    this.watching = true;
    await rm(serialLog, { force: true });
    this.vm = await BoxVm.start({
      disk: this.disk,
      netns: this.classroom.janus.netns!.name,
      serialLog,
      extraCmdline: [unitDropIn('classbox.service', VM_START_DROP_IN)],
    });
    this.readyAt = this.firstReady();
    this.enrolledAt = this.watch(async () => ((await this.device())?.online ? Date.now() : undefined), 100);
    this.readyAt.catch(() => undefined);
    this.enrolledAt.catch(() => undefined);
  }

  /**
   * When the daemon first sent READY=1: systemd logs "Started classbox.service" then (Type=notify). Read
   * from the guest's journal as a monotonic time, i.e. since the kernel started, which QEMU does at once
   * on power-on (-kernel): host time = power-on + that.
   */
  private firstReady(): Promise<number> {
    return this.watch(async () => {
      const { output } = await this.vm.shell(
        "journalctl -b -u classbox -o short-monotonic --no-pager | grep -m1 'Started classbox.service'",
      );
      const at = /^\[\s*(\d+\.\d+)\]/.exec(output.trim());
      return at ? this.vm.poweredOnAt + Math.round(Number(at[1]) * 1000) : undefined;
    }, 3000);
  }

  private async watch(check: () => Promise<number | undefined>, everyMs: number): Promise<number> {
    for (;;) {
      if (!this.watching) throw new Error('stopped watching');
      const at = await check().catch(() => undefined);
      if (at !== undefined) return at;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  /**
   * Cut the power (issue 15): `reset` is QMP system_reset (QEMU goes on, the guest starts from scratch),
   * `quit` ends QEMU and starts a new one on the same disk. Either way the guest gets no warning.
   */
  async powerCut(kind: 'reset' | 'quit'): Promise<void> {
    if (kind === 'reset') {
      await this.vm.reset();
      return;
    }
    await this.vm.stop();
    await this.powerOn(join(ARTIFACTS, 'serial-after-cut.log'));
  }

  /** When the daemon sent READY=1 in the guest's current boot, as a host time; waits for it. */
  async readyThisBoot(timeoutMs: number): Promise<number> {
    return waitFor(
      async () => {
        const { output } = await this.vm.shell(
          "journalctl -b -u classbox -o short-monotonic --no-pager | grep -m1 'Started classbox.service'",
          20_000,
        );
        const at = /^\[\s*(\d+\.\d+)\]/.exec(output.trim());
        return at ? this.vm.poweredOnAt + Math.round(Number(at[1]) * 1000) : undefined;
      },
      timeoutMs,
      'READY=1 in this boot',
      3000,
    );
  }

  async device(deviceId = DEVICE_ID): Promise<AdminDevice | undefined> {
    const response = await fetch(`${this.fleet.url}/api/v1/admin/devices/${deviceId}`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    return response.ok ? ((await response.json()) as AdminDevice) : undefined;
  }

  /** The daemon's control API, read inside the guest (loopback only) with bash's /dev/tcp. */
  async status(): Promise<DeviceStatus> {
    const out = await this.vm.sh(
      `exec 3<>/dev/tcp/127.0.0.1/8470 && printf 'GET /api/status HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3 && cat <&3`,
      30_000,
    );
    const body = out.slice(out.indexOf('\n\n') + 2);
    return JSON.parse(body) as DeviceStatus;
  }

  async waitForState(state: DeviceStatus['state'], timeoutMs: number): Promise<DeviceStatus> {
    return waitFor(
      async () => {
        const s = await this.status();
        return s.state === state ? s : undefined;
      },
      timeoutMs,
      `the box to be ${state}`,
      1000,
    );
  }

  /** Whether the image's config puts the class button on a USB keyboard (hardware.buttons, issue 12). */
  async usbButton(): Promise<boolean> {
    const config = JSON.parse(await this.vm.sh('cat /etc/classbox/device.json')) as {
      hardware?: { buttons?: { class?: { source?: string } } };
    };
    return config.hardware?.buttons?.class?.source === 'usb';
  }

  /** Idle with its kiosk page connected: what the tutor sees after any restart. */
  async waitForIdleScreen(timeoutMs: number): Promise<DeviceStatus> {
    return waitFor(
      async () => {
        const s = await this.status();
        return s.state === 'idle' && s.health.kiosk?.status === 'ok' ? s : undefined;
      },
      timeoutMs,
      'the box idle with its kiosk page connected',
      3000,
    );
  }

  /** What the TV shows, once the compositor shows more than a blank screen; to `file` (PNG). */
  async screenshotWhenDrawn(file: string, timeoutMs = 300_000): Promise<void> {
    await waitFor(
      async () => (await this.vm.screenColours()) >= 8,
      timeoutMs,
      'the screen to be drawn',
      3000,
    );
    await this.vm.screendump(file);
  }

  /** systemd's view of the daemon. */
  async unit(): Promise<Record<string, string>> {
    const out = await this.vm.sh(
      'systemctl show classbox -p ActiveState -p SubState -p MainPID -p NRestarts -p User -p StatusText',
    );
    return Object.fromEntries(
      out
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  }

  /** Keep what the guest logged, for a failed run. */
  async saveGuestLogs(): Promise<void> {
    if (!this.vm) return;
    const journal = await this.vm
      .shell(
        'journalctl -b --no-pager -o short-monotonic -u classbox -u classbox-kiosk-session -u classbox-seed-import | tail -n 400',
        30_000,
      )
      .catch(() => undefined);
    if (journal) await writeFile(join(ARTIFACTS, 'journal.txt'), journal.output);
  }

  async close(): Promise<void> {
    this.watching = false;
    await this.saveGuestLogs().catch(() => undefined);
    await this.vm?.stop();
    await this.fleet?.stop();
    await this.classroom?.close();
    if (this.work) await rm(this.work, { recursive: true, force: true });
  }
}
