import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDeviceConfig } from '../../../device/config/device-config.loader.js';
import { FsFleetState } from '../../../device/adapters/fleet-state.fs.js';
import { StatfsStorage } from '../../../device/adapters/storage.statfs.js';
import { writeFailureHealth } from '../../../device/ports/storage.port.js';
import { ConfigService } from '../../../device/services/config.service.js';

// A real filesystem that fills up and one that turns read-only: a tmpfs of 256 KiB, mounted here.
function tryMount(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const desired = (room: number) => ({
  config: { janus: { url: 'wss://janus.example.cn', room }, timetable: [], timezone: 'Asia/Shanghai' },
  etag: `"${room}"`,
});

describe('state on a full or read-only disk', () => {
  let dir: string;
  let mounted = false;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'classbox-disk-'));
    mounted = tryMount(dir);
    if (!mounted) console.warn('skipping: mounting a tmpfs needs root (CI runs as root)');
  });
  afterAll(async () => {
    if (mounted) execFileSync('umount', [dir]);
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the last good file when the disk fills up, and the storage check says so', async (ctx) => {
    if (!mounted) return ctx.skip();
    const state = new FsFleetState(join(dir, 'state'));
    const config = new ConfigService(
      parseDeviceConfig(
        {
          device: { id: 'disk-box', displayName: 'x' },
          janus: { url: 'ws://j', room: 1 },
          stateDir: join(dir, 'state'),
        },
        't',
      ),
    );
    await state.saveDesired(desired(1234));
    expect((await new StatfsStorage(config, 64 * 1024).check()).status).toBe('ok');

    // Fill the disk to the last byte.
    try {
      await writeFile(join(dir, 'ballast'), Buffer.alloc(512 * 1024));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    const failure = await state.saveDesired(desired(4321)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(writeFailureHealth(failure, 'the config')).toMatchObject({ code: 'E-DISK-FULL' });
    expect((await state.readDesired())?.config.janus?.room).toBe(1234);
    expect(await new StatfsStorage(config, 64 * 1024).check()).toMatchObject({
      status: 'error',
      code: 'E-DISK-FULL',
    });
    await rm(join(dir, 'ballast'));
  });

  it('keeps the last good file on a read-only filesystem, and the storage check says so', async (ctx) => {
    if (!mounted) return ctx.skip();
    const state = new FsFleetState(join(dir, 'state'));
    const config = new ConfigService(
      parseDeviceConfig(
        {
          device: { id: 'disk-box', displayName: 'x' },
          janus: { url: 'ws://j', room: 1 },
          stateDir: join(dir, 'state'),
        },
        't',
      ),
    );
    await state.saveDesired(desired(1234));
    execFileSync('mount', ['-o', 'remount,ro', dir]);
    try {
      const failure = await state.saveDesired(desired(4321)).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(writeFailureHealth(failure, 'the config')).toMatchObject({ code: 'E-DISK-READONLY' });
      expect((await state.readDesired())?.config.janus?.room).toBe(1234);
      expect(await new StatfsStorage(config).check()).toMatchObject({
        status: 'error',
        code: 'E-DISK-READONLY',
      });
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', dir]);
    }
  });
});
