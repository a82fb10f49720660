import { ERROR_TEXTS, type ErrorCode, type ErrorText } from './error-catalog.js';

/**
 * The base of every error class: a stable code from the catalogue (`common/error-catalog.ts`) for
 * IT and the fleet's history, the catalogue's plain words for it, a message for the log that names
 * what went wrong, and the original error as `cause`. A subclass narrows `C` to its own codes.
 */
export abstract class ClassboxError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** What the code means, in Chinese and English, for a person rather than a log. */
  get text(): ErrorText {
    return ERROR_TEXTS[this.code];
  }
}

/** Error text for logs: the message and the causes, never a stack. */
export function reason(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause !== undefined ? ` (${reason(error.cause)})` : '';
    return `${error.message}${cause}`;
  }
  // Some libraries reject with event objects (a WebSocket ErrorEvent) rather than Errors.
  if (typeof error === 'object' && error !== null) {
    const { message, error: inner, code } = error as { message?: unknown; error?: unknown; code?: unknown };
    if (inner instanceof Error) return reason(inner);
    if (typeof message === 'string' && message) return message;
    if (typeof code === 'string') return code;
    try {
      return JSON.stringify(error).slice(0, 200);
    } catch {
      return Object.prototype.toString.call(error);
    }
  }
  return String(error);
}
