/** The admin API as the dashboard calls it: the bearer credential, typed answers, plain errors. */

const TOKEN_KEY = 'classbox.adminToken';

export const credential = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** A refusal of the API (`{"error": {code, message, details}}`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly details?: string[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; details?: string[] };
}

async function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  try {
    return await fetch(`/api/v1/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${credential.get() ?? ''}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, `服务器无法连接 Can't reach the fleet server: ${(error as Error).message}`);
  }
}

async function refusal(response: Response): Promise<ApiError> {
  let body: ErrorBody | undefined;
  try {
    body = (await response.json()) as ErrorBody;
  } catch {
    body = undefined;
  }
  return new ApiError(
    response.status,
    body?.error?.message ?? `HTTP ${response.status}`,
    body?.error?.code,
    body?.error?.details,
  );
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(method, path, body);
  if (!response.ok) throw await refusal(response);
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A GET that sends the ETag of what is shown: `undefined` when the server says it has not changed. */
export async function refresh<T>(
  path: string,
  etag: string | undefined,
): Promise<{ body: T; etag: string } | undefined> {
  const response = await send('GET', path, undefined, etag ? { 'if-none-match': etag } : {});
  if (response.status === 304) return undefined;
  if (!response.ok) throw await refusal(response);
  return { body: (await response.json()) as T, etag: response.headers.get('etag') ?? '' };
}

/** An image of the admin API (a snapshot or a screenshot) as an object URL, with its time. */
export async function image(path: string): Promise<{ url: string; takenAt: string }> {
  const response = await send('GET', path);
  if (!response.ok) throw await refusal(response);
  return {
    url: URL.createObjectURL(await response.blob()),
    takenAt: response.headers.get('x-taken-at') ?? '',
  };
}

export const enc = encodeURIComponent;
