import { apiErrorSchema } from '../../common/fleet-protocol.js';
import { cutSchema, type Cut, type CutRequest } from '../../common/catchup-protocol.js';
import { isErrorCode } from '../../common/error-catalog.js';
import { describeIssues } from '../../common/zod-issues.js';
import { CatchupError, CatchupFleetPort, type CatchupErrorCode } from '../ports/catchup.port.js';
import type { FleetSession } from '../ports/fleet.port.js';
import { signedRequestHeaders } from './fleet.http.js';
import { resumableDownload, type DownloadFailure } from './resumable-download.http.js';

/**
 * A cut is re-encoded while the box waits: minutes for a long stretch on a busy server (the fleet gives
 * its encoder up to 6× the stretch); past that and a minute more, it is stuck.
 */
const CUT_TIMEOUT_MS = 10 * 60_000;
const CUT_SLOWEST = 6;

const DOWNLOAD_CODES: Record<DownloadFailure, CatchupErrorCode> = {
  unreachable: 'E-CATCHUP-DOWNLOAD',
  refused: 'E-CATCHUP-DOWNLOAD',
  broken: 'E-CATCHUP-DOWNLOAD',
  'too-long': 'E-CATCHUP-HASH',
  'no-space': 'E-CATCHUP-SPACE',
};

/**
 * Answers to a cut that asking again cannot change (the request itself is wrong, or the fleet has no such
 * thing): the box gives that stretch up. 401/403 (a clock or an enrolment being fixed), 408/429 and 5xx
 * may pass, and are tried again.
 */
const FINAL_REFUSALS: ReadonlySet<number> = new Set([400, 404, 410, 422]);

/** The fleet's catch-up API (issue 21): signed like every device request. */
export class HttpCatchupFleet extends CatchupFleetPort {
  async requestCut(session: FleetSession, request: CutRequest): Promise<Cut> {
    const path = `/api/v1/devices/${encodeURIComponent(session.deviceId)}/catchup/cuts`;
    const body = JSON.stringify(request);
    let response: Response;
    try {
      response = await fetch(new URL(path, session.url.endsWith('/') ? session.url : `${session.url}/`), {
        method: 'POST',
        headers: { ...signedRequestHeaders(session, 'POST', path, body), 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(
          Math.max(CUT_TIMEOUT_MS, CUT_SLOWEST * (request.toMs - request.fromMs)) + 60_000,
        ),
      });
    } catch (error) {
      throw new CatchupError('E-CATCHUP-DOWNLOAD', `can't reach the fleet server to cut ${path}`, {
        cause: error,
      });
    }
    const raw: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const refusal = apiErrorSchema.safeParse(raw);
      const serverCode = refusal.success ? refusal.data.error.code : undefined;
      const message = refusal.success ? refusal.data.error.message : response.statusText;
      // The fleet's own words for a recording it lacks or can't cut are kept: the box won't ask again.
      const code: CatchupErrorCode =
        serverCode && isErrorCode(serverCode) && serverCode.startsWith('E-CATCHUP-')
          ? (serverCode as CatchupErrorCode)
          : FINAL_REFUSALS.has(response.status)
            ? 'E-CATCHUP-REFUSED'
            : 'E-CATCHUP-DOWNLOAD';
      throw new CatchupError(code, `the fleet server refused the cut: ${response.status} ${message}`);
    }
    const parsed = cutSchema.safeParse(raw);
    if (!parsed.success)
      throw new CatchupError(
        'E-CATCHUP-DOWNLOAD',
        `invalid cut answer: ${describeIssues(parsed.error).join('; ')}`,
      );
    return parsed.data;
  }

  async download(
    session: FleetSession,
    cut: Cut,
    file: string,
    options: { bytesPerSec: number; signal: AbortSignal },
  ): Promise<void> {
    await resumableDownload(session, cut.path, file, cut.size, {
      bytesPerSec: options.bytesPerSec,
      signal: options.signal,
      fail: (kind, message, cause) =>
        new CatchupError(DOWNLOAD_CODES[kind], message, cause === undefined ? undefined : { cause }),
    });
  }
}
