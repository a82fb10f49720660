import { reason } from '../../common/errors.js';
import { classPlacementSchema, type ClassPlacement } from '../../common/fleet-protocol.js';
import { describeIssues } from '../../common/zod-issues.js';
import { ClassPlacementPort } from '../ports/class-placement.port.js';
import { FleetError, type FleetSession } from '../ports/fleet.port.js';
import { signedRequestHeaders } from './fleet.http.js';

/**
 * Short: the box asks while its class is down, and walks its fallback list when the fleet is slow to
 * answer; the whole move must fit in 10 s (issue 19).
 */
const TIMEOUT_MS = 2000;

/** `GET /api/v1/devices/{id}/placement`, signed with the device key, with the global fetch. */
export class HttpClassPlacement extends ClassPlacementPort {
  /** `session`: what signed requests need, undefined before enrolment. */
  constructor(private readonly session: () => FleetSession | undefined) {
    super();
  }

  async locate(): Promise<ClassPlacement | undefined> {
    const session = this.session();
    if (!session) return undefined;
    const path = `/api/v1/devices/${encodeURIComponent(session.deviceId)}/placement`;
    const base = session.url.endsWith('/') ? session.url : `${session.url}/`;
    let response: Response;
    try {
      response = await fetch(new URL(path, base), {
        headers: signedRequestHeaders(session, 'GET', path, ''),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new FleetError(
        'E-FLEET-UNREACHABLE',
        `can't ask the fleet where the class is: ${reason(error)}`,
        {},
        {
          cause: error,
        },
      );
    }
    if (response.status === 404) return undefined;
    if (!response.ok)
      throw new FleetError(
        'E-FLEET-REFUSED',
        `the fleet refused to say where the class is (HTTP ${response.status})`,
        {
          status: response.status,
        },
      );
    const parsed = classPlacementSchema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success)
      throw new FleetError(
        'E-FLEET-BAD-RESPONSE',
        `the fleet's placement is invalid: ${describeIssues(parsed.error).join('; ')}`,
      );
    return parsed.data;
  }
}
