/** Error text for logs: the message and the causes, never a stack. */
export function reason(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause !== undefined ? ` (${reason(error.cause)})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
