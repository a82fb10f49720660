import type { z } from 'zod';
import { describeIssues } from '../common/zod-issues.js';
import { ClassboxError } from '../common/errors.js';
import type { ErrorCode } from '../common/error-catalog.js';

/** A refusal the fleet server explains to its caller: HTTP status, stable code, plain message. */
export class FleetApiError extends ClassboxError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    readonly details?: string[],
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

export const badRequest = (message: string, details?: string[]): FleetApiError =>
  new FleetApiError(400, 'E-BAD-REQUEST', message, details);
export const notFound = (what: string, id: string): FleetApiError =>
  new FleetApiError(404, 'E-NOT-FOUND', `no ${what} with id "${id}"`);

/** Validate a request part; every bad field is named in `details`. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const details = describeIssues(result.error);
    throw badRequest(`invalid ${what}: ${details.join('; ')}`, details);
  }
  return result.data;
}
