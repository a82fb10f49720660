import { describeIssues } from '../../common/zod-issues.js';
import { reason } from '../../common/errors.js';
import { mintedTokensSchema, type MintedTokens } from './enrolment-seed.schema.js';

export interface MintRequest {
  readonly count: number;
  readonly expiresInSeconds: number;
  readonly deviceIds: string[];
  readonly displayNames: string[];
}

export class MintError extends Error {
  constructor(
    readonly code:
      'E-FLASH-MINT-REFUSED' | 'E-FLASH-MINT-FAILED' | 'E-FLASH-MINT-UNREACHABLE' | 'E-FLASH-MINT-BAD-ANSWER',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MintError';
  }
}

/** Mints enrolment tokens through the fleet server's admin API (the bearer token is never printed). */
export class FleetMintingClient {
  constructor(
    private readonly fleetUrl: string,
    private readonly adminToken: string,
    private readonly timeoutMs = 15_000,
  ) {}

  async mint(centreId: string, request: MintRequest): Promise<MintedTokens> {
    const url = new URL(
      `api/v1/admin/centres/${encodeURIComponent(centreId)}/enrolment-tokens`,
      withSlash(this.fleetUrl),
    );
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new MintError(
        'E-FLASH-MINT-UNREACHABLE',
        `can't reach the fleet server at ${url.origin}: ${reason(error)}`,
        { cause: error },
      );
    }
    const text = await response.text();
    if (response.status === 401 || response.status === 403) {
      throw new MintError(
        'E-FLASH-MINT-REFUSED',
        `the fleet server refused the admin token (HTTP ${response.status})`,
      );
    }
    if (response.status !== 201) {
      throw new MintError(
        'E-FLASH-MINT-FAILED',
        `the fleet server answered HTTP ${response.status} for centre ${centreId}: ${serverMessage(text)}`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new MintError('E-FLASH-MINT-BAD-ANSWER', `the fleet server's answer is not JSON`, {
        cause: error,
      });
    }
    const parsed = mintedTokensSchema.safeParse(body);
    if (!parsed.success) {
      throw new MintError(
        'E-FLASH-MINT-BAD-ANSWER',
        `the fleet server's answer is not a token list: ${describeIssues(parsed.error).join('; ')}`,
      );
    }
    return parsed.data;
  }
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
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
