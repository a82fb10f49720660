import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  openSync,
  writeSync,
  closeSync,
  readFileSync,
  writeFileSync,
  existsSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '..', '..', '..');
export const FLASH = join(REPO, 'provisioning', 'flash');
export const FLASH_HELPER = join(REPO, 'dist', 'provisioning', 'flash-helper', 'main.js');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): RunResult {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    input,
    timeout: 120_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Like run(), without blocking the event loop: for tests whose stand-in servers live in this process. */
export function runAsync(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Compiles the flash helper once (the script runs the compiled JS, as it does on an IT workstation). */
export function buildFlashHelper(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'inherit' });
  if (!existsSync(FLASH_HELPER)) throw new Error(`tsc did not produce ${FLASH_HELPER}`);
}

export const MIB = 1024 * 1024;
export const BOOT_OFFSET = 1 * MIB;
export const BOOT_SIZE = 34 * MIB;

/**
 * A small card image shaped like Raspberry Pi OS: MBR, partition 1 FAT32 (type 0x0c, 34 MiB: the smallest FAT32 mkfs makes) at 1 MiB holding
 * config.txt, partition 2 Linux (0x83) filled with a byte pattern so a bad copy shows.
 */
export function buildCardImage(dir: string, name = 'card.img'): string {
  const image = join(dir, name);
  const total = 48 * MIB;
  const fat = join(dir, `${name}.fat`);
  execFileSync(
    'mkfs.vfat',
    ['-F', '32', '-s', '1', '-S', '512', '-n', 'BOOTFS', '-C', fat, String(BOOT_SIZE / 1024)],
    { stdio: 'ignore' },
  );
  writeFileSync(join(dir, 'config.txt'), 'dtparam=audio=on\ngpio=17,27=ip,pu\n');
  execFileSync('mcopy', ['-i', fat, join(dir, 'config.txt'), '::/config.txt'], {
    env: { ...process.env, MTOOLS_SKIP_CHECK: '1' },
  });

  const mbr = Buffer.alloc(512);
  const entry = (i: number, type: number, lba: number, sectors: number) => {
    const at = 446 + i * 16;
    mbr[at + 4] = type;
    mbr.writeUInt32LE(lba, at + 8);
    mbr.writeUInt32LE(sectors, at + 12);
  };
  entry(0, 0x0c, BOOT_OFFSET / 512, BOOT_SIZE / 512);
  const rootLba = (BOOT_OFFSET + BOOT_SIZE) / 512;
  entry(1, 0x83, rootLba, total / 512 - rootLba);
  mbr.writeUInt16LE(0xaa55, 510);

  const fd = openSync(image, 'w');
  try {
    writeSync(fd, mbr, 0, 512, 0);
    writeSync(fd, readFileSync(fat), 0, BOOT_SIZE, BOOT_OFFSET);
    const root = Buffer.alloc(total - BOOT_OFFSET - BOOT_SIZE);
    for (let i = 0; i < root.length; i++) root[i] = (i * 31 + 7) & 0xff;
    writeSync(fd, root, 0, root.length, BOOT_OFFSET + BOOT_SIZE);
  } finally {
    closeSync(fd);
  }
  return image;
}

/** Reads a file from the image's boot partition the way the box's firmware sees it. */
export function readBootFile(image: string, name: string): string {
  return execFileSync('mtype', ['-i', `${image}@@${BOOT_OFFSET}`, `::/${name}`], {
    encoding: 'utf8',
    env: { ...process.env, MTOOLS_SKIP_CHECK: '1' },
  });
}

export interface FakeDisk {
  sizeSectors: number;
  partitions?: string[];
  holders?: string[];
  model?: string;
}

/**
 * A loop-free fake of the machine's block devices: dev/<name> is a plain file (what gets written),
 * sys/block/<name>/{size,<part>/,holders/} and proc/{mounts,swaps} describe it as the kernel would.
 */
export function fakeSystem(
  dir: string,
  disks: Record<string, FakeDisk>,
  mounts: string[] = [],
  swaps: string[] = [],
): { env: Record<string, string>; dev: string } {
  const dev = join(dir, 'dev');
  const sys = join(dir, 'sys');
  const proc = join(dir, 'proc');
  mkdirSync(dev, { recursive: true });
  mkdirSync(proc, { recursive: true });
  for (const [name, disk] of Object.entries(disks)) {
    const block = join(sys, 'block', name);
    mkdirSync(join(block, 'holders'), { recursive: true });
    mkdirSync(join(block, 'device'), { recursive: true });
    writeFileSync(join(block, 'size'), `${disk.sizeSectors}\n`);
    writeFileSync(join(block, 'device', 'model'), `${disk.model ?? 'Card Reader'}\n`);
    for (const holder of disk.holders ?? []) mkdirSync(join(block, 'holders', holder));
    for (const part of disk.partitions ?? []) {
      mkdirSync(join(block, part, 'holders'), { recursive: true });
      writeFileSync(join(dev, part), '');
    }
    writeFileSync(join(dev, name), '');
  }
  writeFileSync(join(proc, 'mounts'), mounts.map((m) => `${m}\n`).join(''));
  writeFileSync(
    join(proc, 'swaps'),
    ['Filename Type Size Used Priority', ...swaps].map((s) => `${s}\n`).join(''),
  );
  symlinkSync(join(dev, Object.keys(disks)[0] ?? 'none'), join(dir, 'by-id-link'));
  return { env: { CLASSBOX_FLASH_DEV: dev, CLASSBOX_FLASH_SYS: sys, CLASSBOX_FLASH_PROC: proc }, dev };
}
