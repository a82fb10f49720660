import type { UpdateErrorCode } from '../domain/update-plan.js';
import type { FleetSession } from '../ports/fleet.port.js';
import { ReleaseDownloadPort, UpdateError } from '../ports/update.port.js';
import { resumableDownload, type DownloadFailure } from './resumable-download.http.js';

const CODES: Record<DownloadFailure, UpdateErrorCode> = {
  unreachable: 'E-UPDATE-DOWNLOAD',
  refused: 'E-UPDATE-DOWNLOAD',
  broken: 'E-UPDATE-DOWNLOAD',
  'too-long': 'E-UPDATE-SIZE',
  // Not a broken link to try again over: the card is full. The installer drops the update and its
  // download, so the space the box needs for its own state comes back at once.
  'no-space': 'E-UPDATE-SPACE',
};

/**
 * Downloads a release payload from the fleet server, resumably (see {@link resumableDownload}): a cut
 * link or a power cut costs only the missing part.
 */
export class HttpReleaseDownload extends ReleaseDownloadPort {
  async download(
    session: FleetSession,
    path: string,
    file: string,
    expectedSize: number,
    onProgress: (bytes: number) => void,
  ): Promise<void> {
    await resumableDownload(session, path, file, expectedSize, {
      onProgress,
      fail: (kind, message, cause) =>
        new UpdateError(CODES[kind], message, cause === undefined ? undefined : { cause }),
    });
  }
}
