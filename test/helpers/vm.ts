import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBootPartition, PARTITION_TABLE_BYTES } from '../../provisioning/flash-helper/partition-table.js';
import { waitFor } from './browser.js';

const run = promisify(execFile);

/**
 * The box's disk image booted in QEMU (issue 14): TCG on 2 cores (nested KVM is unusable here, DESIGN.md),
 * the kernel and initramfs taken out of the image's bootfs, root on virtio, real Linux drivers for the
 * box's hardware inside the guest (vivid camera, snd-aloop sound, a QEMU USB keyboard as the USB button),
 * std VGA for the kiosk, QMP on a unix socket, the console to a log file.
 *
 * Everything test-only is added from outside, on the kernel command line: the drivers
 * (`modules-load=`) and a root shell on the second serial port (`systemd.debug_shell=ttyS1`), which
 * the test drives to look inside the guest. The image itself has neither.
 */
export interface VmOptions {
  /** The flashed disk: written to by the guest. */
  readonly disk: string;
  /** Network namespace to run QEMU in; the guest's user-mode network reaches only what that namespace can. */
  readonly netns?: string;
  readonly serialLog: string;
  readonly memoryMb?: number;
  readonly cpus?: number;
  /** Appended to the image's own cmdline.txt. */
  readonly extraCmdline?: readonly string[];
}

/** Kernel options the test adds: its drivers, its console and its shell (never in the image). */
export const TEST_CMDLINE = [
  'console=ttyS0,115200',
  // vivid: one device, video capture only (node_types bit 0), so the camera is the only /dev/video*.
  'modules-load=vivid,snd-aloop',
  'vivid.n_devs=1',
  'vivid.node_types=0x1',
  'systemd.debug_shell=ttyS1',
  'systemd.show_status=1',
  'net.ifnames=0',
  // The image's hardware watchdog is 15 s (RuntimeWatchdogSec, a Pi's BCM watchdog allows no more); the
  // emulated box runs ten times slower than a Pi under TCG, so PID 1 gets a minute between pets here.
  'systemd.watchdog_sec=60',
];

interface QmpReply {
  return?: unknown;
  error?: { class: string; desc: string };
  event?: string;
}

/** QEMU's machine protocol: one JSON object a line; replies come in order, events in between. */
class Qmp {
  private buffer = '';
  private readonly waiting: { resolve(v: unknown): void; reject(e: Error): void }[] = [];

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (!line) continue;
        const message = JSON.parse(line) as QmpReply & { QMP?: unknown };
        if (message.QMP || message.event) continue;
        const next = this.waiting.shift();
        if (!next) continue;
        if (message.error) next.reject(new Error(`QMP ${message.error.class}: ${message.error.desc}`));
        else next.resolve(message.return);
      }
    });
    socket.on('close', () => {
      for (const w of this.waiting.splice(0)) w.reject(new Error('QMP socket closed'));
    });
  }

  static async open(path: string): Promise<Qmp> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    const qmp = new Qmp(socket);
    await qmp.execute('qmp_capabilities');
    return qmp;
  }

  execute(command: string, args?: object): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) })}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A root shell on a guest serial port: commands in, their output and exit code back, one at a time. */
class GuestShell {
  private output = '';
  private sequence = 0;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.output += chunk;
    });
  }

  static async open(path: string): Promise<GuestShell> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    return new GuestShell(socket);
  }

  /** Run `command` in the guest; resolves with its output (without the echo) and exit code. */
  run(command: string, timeoutMs = 60_000): Promise<{ code: number; output: string }> {
    const result = this.queue.then(() => this.runNow(command, timeoutMs));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runNow(command: string, timeoutMs: number): Promise<{ code: number; output: string }> {
    const n = ++this.sequence;
    // The marker is split in the command so the terminal's echo of the line can never match it.
    const begin = `@@B${n}@@`;
    const end = new RegExp(`@@E${n}@@ (\\d+)`);
    this.output = '';
    this.socket.write(`echo "@@B""${n}@@"; ( ${command} ) </dev/null 2>&1; echo "@@E""${n}@@ $?"\n`);
    const match = await waitFor(
      () => {
        const at = this.output.indexOf(`${begin}\r\n`);
        if (at < 0) return undefined;
        const rest = this.output.slice(at + begin.length + 2);
        const m = end.exec(rest);
        return m ? { code: Number(m[1]), output: rest.slice(0, m.index).replace(/\r/g, '') } : undefined;
      },
      timeoutMs,
      `the guest to run: ${command}`,
      50,
    );
    return match;
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface BootFiles {
  kernel: string;
  initrd: string;
  cmdline: string;
}

/** The FAT boot partition of a disk image, from its partition table. */
function bootPartitionOf(disk: string): ReturnType<typeof findBootPartition> {
  const fd = openSync(disk, 'r');
  const head = Buffer.alloc(PARTITION_TABLE_BYTES);
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  return findBootPartition(head);
}

/** Take the kernel, initramfs and cmdline.txt out of the image's FAT bootfs (mtools, nothing mounted). */
export async function extractBootFiles(disk: string, dir: string): Promise<BootFiles> {
  const boot = bootPartitionOf(disk);
  const image = `${disk}@@${boot.offsetBytes}`;
  const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
  const files = { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img') };
  await run('mcopy', ['-n', '-i', image, '::/vmlinuz', files.kernel], { env });
  await run('mcopy', ['-n', '-i', image, '::/initrd.img', files.initrd], { env });
  const { stdout } = await run('mtype', ['-i', image, '::/cmdline.txt'], { env });
  return { ...files, cmdline: stdout.trim() };
}

/** Whether the FAT bootfs of `disk` holds `name` (mdir exits non-zero for a missing file). */
export async function bootfsHas(disk: string, name: string): Promise<boolean> {
  const boot = bootPartitionOf(disk);
  try {
    await run('mdir', ['-b', '-i', `${disk}@@${boot.offsetBytes}`, `::/${name}`], {
      env: { ...process.env, MTOOLS_SKIP_CHECK: '1' },
    });
    return true;
  } catch {
    return false;
  }
}

export class BoxVm {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private qmp: Qmp | undefined;
  private shellConnection: GuestShell | undefined;
  /** Date.now() when QEMU was spawned: the box's "power on". */
  poweredOnAt = 0;

  private constructor(
    private readonly options: VmOptions,
    private readonly dir: string,
  ) {}

  static async start(options: VmOptions): Promise<BoxVm> {
    const dir = await mkdtemp(join(tmpdir(), 'classbox-vm-'));
    const vm = new BoxVm(options, dir);
    try {
      await vm.spawn();
    } catch (error) {
      await vm.stop();
      throw error;
    }
    return vm;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private async spawn(): Promise<void> {
    const boot = await extractBootFiles(this.options.disk, this.dir);
    const qmpPath = join(this.dir, 'qmp.sock');
    const shellPath = join(this.dir, 'shell.sock');
    const cmdline = [boot.cmdline, ...TEST_CMDLINE, ...(this.options.extraCmdline ?? [])].join(' ');
    const qemu = [
      'qemu-system-x86_64',
      '-accel',
      'tcg',
      '-smp',
      String(this.options.cpus ?? 2),
      '-m',
      String(this.options.memoryMb ?? 2048),
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-kernel',
      boot.kernel,
      '-initrd',
      boot.initrd,
      '-append',
      cmdline,
      '-drive',
      `file=${this.options.disk},if=virtio,format=raw,cache=unsafe`,
      // User-mode networking inside the test's namespace: DHCP for NetworkManager as on a LAN, and the
      // namespace (no default route) keeps the guest's traffic on this machine.
      '-netdev',
      'user,id=net0,hostname=classbox',
      '-device',
      'virtio-net-pci,netdev=net0',
      '-device',
      'qemu-xhci',
      '-device',
      'usb-kbd',
      // The Pi's hardware watchdog (dtparam=watchdog=on, fed by systemd): an Intel 6300ESB, which Debian's
      // kernel drives (i6300esb) and QEMU resets the machine by when it is not fed — a hung guest comes
      // back by itself, as a box does.
      '-device',
      'i6300esb',
      '-action',
      'watchdog=reset',
      '-vga',
      'std',
      '-qmp',
      `unix:${qmpPath},server=on,wait=off`,
      '-serial',
      `file:${this.options.serialLog}`,
      '-serial',
      `unix:${shellPath},server=on,wait=off`,
    ];
    const [cmd, args] = this.options.netns
      ? ['ip', ['netns', 'exec', this.options.netns, ...qemu]]
      : [qemu[0]!, qemu.slice(1)];
    this.poweredOnAt = Date.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.qmp = await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`QEMU exited (${child.exitCode}): ${stderr.trim()}`);
        return Qmp.open(qmpPath).catch(() => undefined);
      },
      30_000,
      'QEMU to open its QMP socket',
    ).catch((error: Error) => {
      throw new Error(`${error.message}; QEMU said: ${stderr.trim()}`);
    });
    this.shellConnection = await GuestShell.open(shellPath);
  }

  /**
   * A power cut and the power back at once: QMP `system_reset` resets the machine without any warning
   * to the guest, so what its page cache held and had not written to the disk is lost; the disk file
   * keeps every write the guest's kernel had issued, as a card does. The shell's serial port stays open.
   */
  async reset(): Promise<void> {
    await this.qmp!.execute('system_reset');
    this.poweredOnAt = Date.now();
  }

  /** Run a shell command as root in the guest (the kernel-command-line debug shell). */
  async shell(command: string, timeoutMs?: number): Promise<{ code: number; output: string }> {
    if (!this.shellConnection) throw new Error('the VM is not running');
    return this.shellConnection.run(command, timeoutMs);
  }

  /** Like shell(), but fails on a non-zero exit and returns the output. */
  async sh(command: string, timeoutMs?: number): Promise<string> {
    const { code, output } = await this.shell(command, timeoutMs);
    if (code !== 0) throw new Error(`guest command failed (${code}): ${command}\n${output}`);
    return output;
  }

  /** Press or release a key of the QEMU USB keyboard (the box's USB button). */
  async key(qcode: string, down: boolean): Promise<void> {
    await this.qmp!.execute('input-send-event', {
      events: [{ type: 'key', data: { down, key: { type: 'qcode', data: qcode } } }],
    });
  }

  /** Down, hold, up: a press the same whether the box acts on the press or on the release. */
  async press(qcode: string, holdMs: number): Promise<void> {
    await this.key(qcode, true);
    await new Promise((r) => setTimeout(r, holdMs));
    await this.key(qcode, false);
  }

  /** What the guest's display shows, as a PNG file (QEMU ≥ 7.1 writes PNG itself; no PPM step). */
  async screendump(file: string): Promise<void> {
    await this.qmp!.execute('screendump', { filename: file, format: 'png' });
  }

  /**
   * How many colours the display shows now (sampled): 1 for a blank screen. The page can be connected
   * and talking to the daemon well before the compositor shows its first frame under TCG, so a test
   * that wants what the TV shows waits for this, not for the page.
   */
  async screenColours(): Promise<number> {
    return (await this.screenSample()).size;
  }

  /** Whether the screen shows vivid's test pattern (its magenta bar: nothing else on the box's screens is). */
  async showsTestPattern(): Promise<boolean> {
    return [...(await this.screenSample())].some((rgb) => {
      const [r, g, b] = [rgb >> 16, (rgb >> 8) & 0xff, rgb & 0xff];
      return r > 150 && b > 150 && g < 60;
    });
  }

  /** The colours of a sample of the display's pixels (every 97th), as 0xRRGGBB. */
  private async screenSample(): Promise<Set<number>> {
    const dir = await mkdtemp(join(tmpdir(), 'classbox-vm-screen-'));
    try {
      const file = join(dir, 'screen.ppm');
      await this.qmp!.execute('screendump', { filename: file, format: 'ppm' });
      const ppm = await readFile(file);
      // P6 <width> <height> <maxval>, one whitespace, then RGB bytes.
      const header = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(ppm.subarray(0, 64).toString('latin1'));
      if (!header) throw new Error('QEMU wrote no P6 image');
      const pixels = ppm.subarray(header[0].length);
      const colours = new Set<number>();
      for (let i = 0; i + 2 < pixels.length; i += 3 * 97) {
        colours.add((pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!);
      }
      return colours;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async serialLog(): Promise<string> {
    return readFile(this.options.serialLog, 'utf8').catch(() => '');
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.shellConnection?.close();
    if (child && child.exitCode === null) {
      await this.qmp?.execute('quit').catch(() => undefined);
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(killer);
    }
    this.qmp?.close();
    this.child = undefined;
    await rm(this.dir, { recursive: true, force: true });
  }
}
