import { open } from 'node:fs/promises';
import { reason } from '../../common/errors.js';
import type { FleetSession } from '../ports/fleet.port.js';
import { isNoSpace } from '../ports/storage.port.js';
import { ReleaseDownloadPort, UpdateError } from '../ports/update.port.js';
import { signedRequestHeaders } from './fleet.http.js';

/** A stalled download is dropped after this long without a byte; the next try resumes. */
const STALL_MS = 60_000;

/**
 * Downloads a payload from the fleet server with device-signed GETs, appending to what is
 * already on disk (`Range: bytes=N-`), so a cut link or a power cut costs only the missing part.
 */
export class HttpReleaseDownload extends ReleaseDownloadPort {
  async download(
    session: FleetSession,
    path: string,
    file: string,
    expectedSize: number,
    onProgress: (bytes: number) => void,
  ): Promise<void> {
    const handle = await open(file, 'a');
    try {
      let have = (await handle.stat()).size;
      if (have >= expectedSize) return;
      const headers = { ...signedRequestHeaders(session, 'GET', path, ''), range: `bytes=${have}-` };
      const controller = new AbortController();
      let stall = setTimeout(() => controller.abort(), STALL_MS);
      let response: Response;
      try {
        response = await fetch(new URL(path, session.url.endsWith('/') ? session.url : `${session.url}/`), {
          headers,
          signal: controller.signal,
        });
      } catch (error) {
        clearTimeout(stall);
        throw new UpdateError('E-UPDATE-DOWNLOAD', `can't reach the fleet server for ${path}`, {
          cause: error,
        });
      }
      if (response.status !== 206 && !(response.status === 200 && have === 0)) {
        clearTimeout(stall);
        await response.body?.cancel();
        throw new UpdateError(
          'E-UPDATE-DOWNLOAD',
          `the fleet server answered ${response.status} to a download from byte ${have}`,
        );
      }
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          clearTimeout(stall);
          stall = setTimeout(() => controller.abort(), STALL_MS);
          if (have + chunk.length > expectedSize) {
            throw new UpdateError(
              'E-UPDATE-SIZE',
              `the download of ${path} is longer than its manifest says`,
            );
          }
          await handle.write(chunk);
          have += chunk.length;
          onProgress(have);
        }
      } catch (error) {
        if (error instanceof UpdateError) throw error;
        if (isNoSpace(error)) {
          // Not a broken link to try again over: the card is full. The installer drops the update and
          // its download, so the space the box needs for its own state comes back at once.
          throw new UpdateError(
            'E-UPDATE-SPACE',
            `the disk filled up during the download, at ${mb(have)} of ${mb(expectedSize)} MB`,
            { cause: error },
          );
        }
        throw new UpdateError(
          'E-UPDATE-DOWNLOAD',
          `the download broke off at byte ${have}: ${reason(error)}`,
          {
            cause: error,
          },
        );
      } finally {
        clearTimeout(stall);
        // What arrived is kept (and synced) for the next try to resume from. On a full disk the sync
        // fails too: the write's error is the one to report.
        await handle.sync().catch(() => undefined);
      }
    } finally {
      await handle.close();
    }
  }
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
