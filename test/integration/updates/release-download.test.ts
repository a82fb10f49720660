import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpReleaseDownload } from '../../../device/adapters/release-download.http.js';
import type { FleetSession } from '../../../device/ports/fleet.port.js';
import { syncedMarkOf, UpdateError } from '../../../device/ports/update.port.js';

const PAYLOAD = randomBytes(256 * 1024);

/**
 * The download adapter against a real HTTP server that breaks the connection part-way, as a
 * rural link does: what arrived is kept, and the next try asks only for the rest.
 */
describe('the release download', () => {
  let dir: string;
  let server: Server;
  let session: FleetSession;
  let ranges: (string | undefined)[];
  let cutAfter: number | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-download-'));
    ranges = [];
    cutAfter = undefined;
    server = createServer((request, response) => {
      ranges.push(request.headers.range);
      const signed = request.headers['x-classbox-signature'] !== undefined;
      const start = Number(/^bytes=(\d+)-$/.exec(request.headers.range ?? '')?.[1] ?? 0);
      if (!signed) {
        response.writeHead(401).end();
        return;
      }
      response.writeHead(start > 0 ? 206 : 200, {
        'content-length': String(PAYLOAD.length - start),
        ...(start > 0 ? { 'content-range': `bytes ${start}-${PAYLOAD.length - 1}/${PAYLOAD.length}` } : {}),
      });
      if (cutAfter !== undefined) {
        response.write(PAYLOAD.subarray(start, start + cutAfter), () => response.destroy());
        return;
      }
      response.end(PAYLOAD.subarray(start));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const { privateKey } = generateKeyPairSync('ed25519');
    session = {
      url: `http://127.0.0.1:${port}`,
      deviceId: 'jx-ruijin-01',
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      clockOffsetMs: 0,
    };
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the bytes of a broken download and resumes from them', async () => {
    const file = join(dir, 'payload');
    const path = '/api/v1/devices/jx-ruijin-01/releases/1.1.0/payload';
    cutAfter = 100_000;
    const error = await new HttpReleaseDownload()
      .download(session, path, file, PAYLOAD.length, () => undefined)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(UpdateError);
    expect((error as UpdateError).code).toBe('E-UPDATE-DOWNLOAD');
    const kept = readFileSync(file);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.equals(PAYLOAD.subarray(0, kept.length))).toBe(true);

    // What was kept is counted beside it, after an fsync: what a resume after a power cut trusts.
    expect(readFileSync(syncedMarkOf(file), 'utf8').trim()).toBe(String(kept.length));

    cutAfter = undefined;
    await new HttpReleaseDownload().download(session, path, file, PAYLOAD.length, () => undefined);
    expect(readFileSync(file).equals(PAYLOAD)).toBe(true);
    expect(ranges).toEqual(['bytes=0-', `bytes=${kept.length}-`]);
    expect(readFileSync(syncedMarkOf(file), 'utf8').trim()).toBe(String(PAYLOAD.length));
  });

  it('resumes after a power cut from the bytes it synced, not from a tail the cut left behind', async () => {
    // What the booted box showed (issue 15): after a cut during the download the file had its full
    // length, but past the last synced byte it held zeros; resuming from its length gave E-UPDATE-HASH.
    const file = join(dir, 'payload');
    const synced = 100_000;
    writeFileSync(file, Buffer.concat([PAYLOAD.subarray(0, synced), Buffer.alloc(PAYLOAD.length - synced)]));
    writeFileSync(syncedMarkOf(file), String(synced));
    await new HttpReleaseDownload().download(session, '/p', file, PAYLOAD.length, () => undefined);
    expect(ranges).toEqual([`bytes=${synced}-`]);
    expect(readFileSync(file).equals(PAYLOAD)).toBe(true);
  });

  it('trusts none of a download that has no synced count beside it', async () => {
    const file = join(dir, 'payload');
    writeFileSync(file, randomBytes(150_000));
    await new HttpReleaseDownload().download(session, '/p', file, PAYLOAD.length, () => undefined);
    expect(ranges).toEqual(['bytes=0-']);
    expect(readFileSync(file).equals(PAYLOAD)).toBe(true);
  });

  it('refuses a server that sends more than the manifest says', async () => {
    const file = join(dir, 'payload');
    writeFileSync(file, '');
    const error = await new HttpReleaseDownload()
      .download(session, '/p', file, PAYLOAD.length - 10, () => undefined)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((error as UpdateError).code).toBe('E-UPDATE-SIZE');
  });

  it('says the disk is full, not that the link broke, when the card fills up during the download', async (ctx) => {
    // A real filesystem smaller than the payload: a 128 KiB tmpfs (mounting needs root; CI runs as root).
    const small = join(dir, 'small');
    mkdirSync(small);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', small], { stdio: 'ignore' });
    } catch {
      if (process.env.CI) throw new Error('mounting a tmpfs needs root, and CI runs as root');
      return ctx.skip();
    }
    try {
      const file = join(small, 'payload');
      const error = await new HttpReleaseDownload()
        .download(session, '/p', file, PAYLOAD.length, () => undefined)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(UpdateError);
      expect((error as UpdateError).code).toBe('E-UPDATE-SPACE');
      expect((error as UpdateError).message).toMatch(
        /disk filled up during the download, at [\d.]+ of 0\.3 MB/,
      );
      // What it wrote is what fitted: the installer deletes it (the update is dropped).
      expect(existsSync(file) && statSync(file).size).toBeLessThan(PAYLOAD.length);
    } finally {
      execFileSync('umount', [small]);
    }
  });
});
