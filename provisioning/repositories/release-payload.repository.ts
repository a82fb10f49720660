import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RELEASE_VERSION } from '../../common/release-manifest.js';
import { FleetApiError } from '../fleet-errors.js';

/** Where the fleet server keeps release payloads; shared storage when replicas share a database. */
export abstract class ReleasePayloadOptions {
  abstract readonly dir: string;
}

/** Release payloads as files `<dir>/<version>.tar.gz`, written to a temp name and renamed when whole. */
export class ReleasePayloadRepository {
  constructor(private readonly options: ReleasePayloadOptions) {}

  /** Store an upload; refused (413) past `maxBytes`. Returns what arrived. */
  async save(version: string, body: Readable, maxBytes: number): Promise<{ sha256: string; size: number }> {
    await mkdir(this.options.dir, { recursive: true });
    const temp = join(this.options.dir, `.upload-${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            size += chunk.length;
            if (size > maxBytes) {
              throw new FleetApiError(
                413,
                'E-TOO-LARGE',
                `the payload is larger than its manifest's ${maxBytes} bytes`,
              );
            }
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(temp),
      );
      await rename(temp, this.file(version));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { sha256: hash.digest('hex'), size };
  }

  async size(version: string): Promise<number | undefined> {
    try {
      return (await stat(this.file(version))).size;
    } catch {
      return undefined;
    }
  }

  /** Bytes `start` to `end` inclusive. */
  open(version: string, start: number, end: number): Readable {
    return createReadStream(this.file(version), { start, end });
  }

  async remove(version: string): Promise<void> {
    await rm(this.file(version), { force: true });
  }

  private file(version: string): string {
    if (!RELEASE_VERSION.test(version))
      throw new FleetApiError(404, 'E-NOT-FOUND', `no release "${version}"`);
    return join(this.options.dir, `${version}.tar.gz`);
  }
}
