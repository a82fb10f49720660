import { open, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { reason } from '../../common/errors.js';
import type { FleetSession } from '../ports/fleet.port.js';
import { isNoSpace } from '../ports/storage.port.js';
import { ReleaseDownloadPort, syncedMarkOf, UpdateError } from '../ports/update.port.js';
import { signedRequestHeaders } from './fleet.http.js';

/** A stalled download is dropped after this long without a byte; the next try resumes. */
const STALL_MS = 60_000;

/** Bytes between two checkpoints: what a power cut can cost at most, beside the fsyncs it costs. */
const CHECKPOINT_BYTES = 1024 * 1024;

/**
 * Downloads a payload from the fleet server with device-signed GETs, appending to what is
 * already on disk (`Range: bytes=N-`), so a cut link or a power cut costs only the missing part.
 * Every {@link CHECKPOINT_BYTES} the file is fsynced and its length recorded ({@link syncedMarkOf});
 * a resumed download starts from that length, never from a tail a power cut may have torn.
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
    const mark = syncedMarkOf(file);
    let synced: number;
    const checkpoint = async (bytes: number): Promise<void> => {
      await handle.sync();
      // Atomic: the mark is the old count or the new one, each backed by synced bytes.
      await writeFileAtomic(mark, String(bytes));
      synced = bytes;
    };
    try {
      const onDisk = (await handle.stat()).size;
      let have = Math.min(onDisk, await readMark(mark));
      if (have < onDisk) await handle.truncate(have);
      synced = have;
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
          if (have - synced >= CHECKPOINT_BYTES) await checkpoint(have);
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
        // What arrived is kept (synced and counted) for the next try to resume from. On a full disk
        // the checkpoint fails too: the write's error is the one to report.
        if (have > synced) await checkpoint(have).catch(() => undefined);
      }
    } finally {
      await handle.close();
    }
  }
}

/** The synced byte count beside a download; 0 when absent or unreadable (nothing is trusted then). */
async function readMark(mark: string): Promise<number> {
  const text = await readFile(mark, 'utf8').catch(() => '');
  const n = Number(text.trim());
  return text.trim() !== '' && Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
