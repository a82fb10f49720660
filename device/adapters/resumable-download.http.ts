import { open, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { reason } from '../../common/errors.js';
import type { FleetSession } from '../ports/fleet.port.js';
import { isNoSpace } from '../ports/storage.port.js';
import { syncedMarkOf } from '../ports/update.port.js';
import { signedRequestHeaders } from './fleet.http.js';

/** A stalled download is dropped after this long without a byte; the next try resumes. */
const STALL_MS = 60_000;

/** Bytes between two checkpoints: what a power cut can cost at most, beside the fsyncs it costs. */
const CHECKPOINT_BYTES = 1024 * 1024;

/** How a download failed, for the caller to turn into its own error code. */
export type DownloadFailure = 'unreachable' | 'refused' | 'too-long' | 'no-space' | 'broken';

export interface ResumableDownloadOptions {
  readonly onProgress?: (bytes: number) => void;
  /**
   * Read no faster than this on average (bytes/s): the box's link is shared with the next class and the
   * fleet's heartbeats, and TCP's window follows how fast the box reads. Absent: as fast as it comes.
   */
  readonly bytesPerSec?: number;
  /** Aborting stops the download where it is; what arrived is kept for the next try. */
  readonly signal?: AbortSignal;
  /** The caller's error for a failure (its code, the message names what happened). */
  readonly fail: (kind: DownloadFailure, message: string, cause?: unknown) => Error;
}

/**
 * Downloads `path` from the fleet server with device-signed GETs, appending to what is already in
 * `file` (`Range: bytes=N-`), so a cut link or a power cut costs only the missing part. Every
 * {@link CHECKPOINT_BYTES} the file is fsynced and its length recorded ({@link syncedMarkOf}); a resumed
 * download starts from that length, never from a tail a power cut may have torn. Used for release
 * payloads (issue 7) and catch-up videos (issue 21).
 */
export async function resumableDownload(
  session: FleetSession,
  path: string,
  file: string,
  expectedSize: number,
  options: ResumableDownloadOptions,
): Promise<void> {
  // Errors made by the caller's `fail` are worded already: passed on as they are.
  const made = new WeakSet<Error>();
  const fail = (kind: DownloadFailure, message: string, cause?: unknown): Error => {
    const error = options.fail(kind, message, cause);
    made.add(error);
    return error;
  };
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
    const onAbort = (): void => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let stall = setTimeout(() => controller.abort(), STALL_MS);
    let response: Response;
    try {
      response = await fetch(new URL(path, session.url.endsWith('/') ? session.url : `${session.url}/`), {
        headers,
        signal: controller.signal,
      });
    } catch (error) {
      clearTimeout(stall);
      options.signal?.removeEventListener('abort', onAbort);
      throw fail('unreachable', `can't reach the fleet server for ${path}`, error);
    }
    if (response.status !== 206 && !(response.status === 200 && have === 0)) {
      clearTimeout(stall);
      options.signal?.removeEventListener('abort', onAbort);
      await response.body?.cancel();
      throw fail('refused', `the fleet server answered ${response.status} to a download from byte ${have}`);
    }
    const started = Date.now();
    const startedAt = have;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        clearTimeout(stall);
        stall = setTimeout(() => controller.abort(), STALL_MS);
        if (have + chunk.length > expectedSize) {
          throw fail('too-long', `the download of ${path} is longer than the server said`);
        }
        await handle.write(chunk);
        have += chunk.length;
        if (have - synced >= CHECKPOINT_BYTES) await checkpoint(have);
        options.onProgress?.(have);
        if (options.bytesPerSec !== undefined) {
          // Not reading holds TCP's window shut: the sender slows to the rate the box reads at.
          const ahead = ((have - startedAt) / options.bytesPerSec) * 1000 - (Date.now() - started);
          if (ahead > 0) {
            clearTimeout(stall);
            await sleep(ahead, undefined, { signal: controller.signal });
            stall = setTimeout(() => controller.abort(), STALL_MS);
          }
        }
      }
    } catch (error) {
      if (error instanceof Error && made.has(error)) throw error;
      if (isNoSpace(error)) {
        // Not a broken link to try again over: the card is full.
        throw fail(
          'no-space',
          `the disk filled up during the download, at ${mb(have)} of ${mb(expectedSize)} MB`,
          error,
        );
      }
      if (options.signal?.aborted) throw fail('broken', `the download was stopped at byte ${have}`, error);
      throw fail('broken', `the download broke off at byte ${have}: ${reason(error)}`, error);
    } finally {
      clearTimeout(stall);
      options.signal?.removeEventListener('abort', onAbort);
      // What arrived is kept (synced and counted) for the next try to resume from. On a full disk
      // the checkpoint fails too: the write's error is the one to report.
      if (have > synced) await checkpoint(have).catch(() => undefined);
    }
  } finally {
    await handle.close();
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
