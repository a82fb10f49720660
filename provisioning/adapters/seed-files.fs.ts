import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnrolmentSeed } from '../../common/fleet-protocol.js';

export const SEED_FILE_NAME = 'classbox-enrol.json';

/**
 * Writes `DIR/<deviceId>/classbox-enrol.json` for each seed, ready to copy onto a boot
 * partition. Mode 0600: the file holds a live token. Written atomically (temp, fsync, rename).
 */
export async function writeSeedFiles(dir: string, seeds: readonly EnrolmentSeed[]): Promise<string[]> {
  const written: string[] = [];
  for (const seed of seeds) {
    const folder = join(dir, seed.deviceId);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const file = join(folder, SEED_FILE_NAME);
    const temp = `${file}.tmp-${process.pid}`;
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(seed, null, 2)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    written.push(file);
  }
  return written;
}
