import type { z } from 'zod';
import { ClassboxError, reason } from '../../common/errors.js';
import { describeIssues } from '../../common/zod-issues.js';
import { mintedTokensSchema, type MintedTokens } from '../flash-helper/enrolment-seed.schema.js';
import type { createCentreSchema } from '../protocol/admin-api.schema.js';
import {
  centreViewSchema,
  releaseViewSchema,
  rolloutViewSchema,
  type CentreView,
  type ReleaseView,
  type RolloutView,
} from '../protocol/admin-views.schema.js';

export type AdminApiErrorCode =
  'E-ADMIN-API-REFUSED' | 'E-ADMIN-API-FAILED' | 'E-ADMIN-API-UNREACHABLE' | 'E-ADMIN-API-BAD-ANSWER';

/** A call to the fleet server's admin API that did not give the answer asked for. */
export class AdminApiError extends ClassboxError<AdminApiErrorCode> {}

export interface MintRequest {
  readonly count: number;
  readonly expiresInSeconds: number;
  readonly deviceIds: string[];
  readonly displayNames: string[];
}

export interface RolloutRequest {
  readonly channel?: string;
  readonly centre?: string;
  readonly device?: string;
  readonly percent: number;
  readonly force: boolean;
}

/**
 * The IT tools' one client of the fleet server's admin API (`classbox release upload/rollout`, the
 * flash tool's batch minting): bearer token (never printed), the server's own reason on a refusal,
 * and every answer checked against its schema rather than cast.
 */
export class AdminApiClient {
  constructor(
    private readonly fleetUrl: string,
    private readonly adminToken: string,
    private readonly timeoutMs = 15_000,
  ) {}

  mintTokens(centreId: string, request: MintRequest): Promise<MintedTokens> {
    return this.call(
      'POST',
      `api/v1/admin/centres/${encodeURIComponent(centreId)}/enrolment-tokens`,
      json(request),
      mintedTokensSchema,
      `centre ${centreId}`,
    );
  }

  createCentre(centre: z.input<typeof createCentreSchema>): Promise<CentreView> {
    return this.call('POST', 'api/v1/admin/centres', json(centre), centreViewSchema, `centre ${centre.id}`);
  }

  createRelease(manifest: string, signature: unknown): Promise<ReleaseView> {
    return this.call(
      'POST',
      'api/v1/admin/releases',
      json({ manifest, signature }),
      releaseViewSchema,
      'the release',
    );
  }

  /** The payload is streamed, never held in memory; no time limit (a slow link may take long). */
  uploadPayload(version: string, payload: ReadableStream): Promise<ReleaseView> {
    return this.call(
      'PUT',
      `api/v1/admin/releases/${encodeURIComponent(version)}/payload`,
      { body: payload, contentType: 'application/octet-stream', unlimited: true },
      releaseViewSchema,
      `release ${version}`,
    );
  }

  createRollout(version: string, request: RolloutRequest): Promise<RolloutView> {
    return this.call(
      'POST',
      `api/v1/admin/releases/${encodeURIComponent(version)}/rollouts`,
      json(request),
      rolloutViewSchema,
      `release ${version}`,
    );
  }

  private async call<S extends z.ZodType>(
    method: string,
    path: string,
    send: Body,
    schema: S,
    what: string,
  ): Promise<z.output<S>> {
    const url = new URL(path, this.fleetUrl.endsWith('/') ? this.fleetUrl : `${this.fleetUrl}/`);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': send.contentType },
        body: send.body,
        duplex: 'half',
        ...(send.unlimited ? {} : { signal: AbortSignal.timeout(this.timeoutMs) }),
      } as RequestInit);
      text = await response.text();
    } catch (error) {
      throw new AdminApiError(
        'E-ADMIN-API-UNREACHABLE',
        `can't reach the fleet server at ${url.origin}: ${reason(error)}`,
        { cause: error },
      );
    }
    if (response.status === 401 || response.status === 403)
      throw new AdminApiError(
        'E-ADMIN-API-REFUSED',
        `the fleet server refused the admin token (HTTP ${response.status})`,
      );
    if (!response.ok)
      throw new AdminApiError(
        'E-ADMIN-API-FAILED',
        `the fleet server answered HTTP ${response.status} for ${what}: ${serverMessage(text)}`,
      );
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new AdminApiError('E-ADMIN-API-BAD-ANSWER', `the fleet server's answer for ${what} is not JSON`, {
        cause: error,
      });
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success)
      throw new AdminApiError(
        'E-ADMIN-API-BAD-ANSWER',
        `the fleet server's answer for ${what} is not what was asked for: ${describeIssues(parsed.error).join('; ')}`,
      );
    return parsed.data;
  }
}

interface Body {
  readonly body: string | ReadableStream;
  readonly contentType: string;
  readonly unlimited?: boolean;
}

function json(value: unknown): Body {
  return { body: JSON.stringify(value), contentType: 'application/json' };
}

/** The fleet server answers errors as `{"error": {"code", "message"}}`; other proxies answer anything. */
function serverMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.message === 'string') {
      return typeof body.error.code === 'string'
        ? `${body.error.message} [${body.error.code}]`
        : body.error.message;
    }
    if (typeof body.message === 'string') return body.message;
  } catch {
    // Not JSON: show the start of the text instead.
  }
  return text.slice(0, 200) || '(empty body)';
}
