import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
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

  /**
   * Store an upload: streamed to a temporary file, refused (413) as soon as it passes the
   * expected size, and renamed into place only when its size and SHA-256 both match; otherwise
   * the temporary file goes and any payload already in place stays as it was.
   */
  async save(
    version: string,
    body: Readable,
    expected: { size: number; sha256: string },
  ): Promise<{ sha256: string; size: number }> {
    await mkdir(this.options.dir, { recursive: true });
    const temp = join(this.options.dir, `.upload-${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    // Opened here, not by createWriteStream: a stream opens its file in the background, and a body
    // refused at its first chunk would reach the rm below before that open, leaving the file behind.
    const out = await open(temp, 'wx');
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            size += chunk.length;
            if (size > expected.size) {
              throw new FleetApiError(
                413,
                'E-TOO-LARGE',
                `the payload is larger than its manifest's ${expected.size} bytes`,
              );
            }
            hash.update(chunk);
            yield chunk;
          }
        },
        out.createWriteStream(),
      );
      const sha256 = hash.digest('hex');
      if (size !== expected.size || sha256 !== expected.sha256) {
        throw new FleetApiError(
          400,
          'E-PAYLOAD-MISMATCH',
          `the payload of release ${version} does not match its manifest (${size} bytes, expected ${expected.size}; SHA-256 ${sha256 === expected.sha256 ? 'matches' : 'differs'})`,
        );
      }
      await rename(temp, this.file(version));
      return { sha256, size };
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
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

  private file(version: string): string {
    if (!RELEASE_VERSION.test(version))
      throw new FleetApiError(404, 'E-NOT-FOUND', `no release "${version}"`);
    return join(this.options.dir, `${version}.tar.gz`);
  }
}
