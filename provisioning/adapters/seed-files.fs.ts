import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.js';
import type { EnrolmentSeed } from '../../common/fleet-protocol.js';

export const SEED_FILE_NAME = 'classbox-enrol.json';

/**
 * Writes `DIR/<deviceId>/classbox-enrol.json` for each seed, ready to copy onto a boot
 * partition. Mode 0600: the file holds a live token. Written atomically (temp, fsync, rename).
 */
export async function writeSeedFiles(dir: string, seeds: readonly EnrolmentSeed[]): Promise<string[]> {
  const written: string[] = [];
  for (const seed of seeds) {
    const file = join(dir, seed.deviceId, SEED_FILE_NAME);
    await writeFileAtomic(file, JSON.stringify(seed, null, 2));
    written.push(file);
  }
  return written;
}
