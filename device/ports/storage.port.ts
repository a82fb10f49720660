import type { DeviceHealth } from './health.js';

/** The storage under the state directory: is there room, can it be written. */
export abstract class StoragePort {
  /** Never throws: `E-DISK-FULL`, `E-DISK-READONLY` or `E-DISK` when not ok. */
  abstract check(): Promise<DeviceHealth>;
}

/** The health of a write that failed, by its errno, for the services that write state. */
export function writeFailureHealth(error: unknown, what: string): DeviceHealth {
  const code = findErrno(error);
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return { status: 'error', code: 'E-DISK-FULL', detail: `can't save ${what}: no space left` };
  if (code === 'EROFS')
    return {
      status: 'error',
      code: 'E-DISK-READONLY',
      detail: `can't save ${what}: the filesystem is read-only`,
    };
  return { status: 'error', code: 'E-DISK', detail: `can't save ${what}: ${code ?? 'write failed'}` };
}

/** Whether a failed write failed for want of space (ENOSPC, EDQUOT), anywhere in its cause chain. */
export function isNoSpace(error: unknown): boolean {
  const code = findErrno(error);
  return code === 'ENOSPC' || code === 'EDQUOT';
}

function findErrno(error: unknown): string | undefined {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E') && code.length > 2 && !code.startsWith('E-'))
      return code;
  }
  return undefined;
}
