import { Injectable } from '@nestjs/common';
import { constants } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { reason } from '../../common/errors.js';
import type { DeviceHealth } from '../ports/health.js';
import { StoragePort } from '../ports/storage.port.js';
import { ConfigService } from '../services/config.service.js';

/** Below this the next config or update can't be saved: say so before a write fails. */
export const MIN_FREE_BYTES = 32 * 1024 * 1024;

/** statfs(2) and access(2) on the state directory (or the nearest folder above it that exists). */
@Injectable()
export class StatfsStorage extends StoragePort {
  constructor(
    private readonly config: ConfigService,
    private readonly minFreeBytes = MIN_FREE_BYTES,
  ) {
    super();
  }

  async check(): Promise<DeviceHealth> {
    const dir = await existingFolder(this.config.current.stateDir);
    try {
      await access(dir, constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EROFS')
        return { status: 'error', code: 'E-DISK-READONLY', detail: `${dir} is on a read-only filesystem` };
      return { status: 'error', code: 'E-DISK', detail: `can't write ${dir}: ${reason(error)}` };
    }
    try {
      const fs = await statfs(dir);
      const free = fs.bavail * fs.bsize;
      if (free < this.minFreeBytes) {
        return {
          status: 'error',
          code: 'E-DISK-FULL',
          detail: `${Math.floor(free / 1024)} KiB free under ${dir}`,
        };
      }
      return { status: 'ok', detail: `${Math.floor(free / 1024 / 1024)} MiB free` };
    } catch (error) {
      return {
        status: 'error',
        code: 'E-DISK',
        detail: `can't read the free space of ${dir}: ${reason(error)}`,
      };
    }
  }
}

async function existingFolder(path: string): Promise<string> {
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      await access(dir, constants.F_OK);
      return dir;
    } catch {
      if (dirname(dir) === dir) return dir;
    }
  }
}
