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
