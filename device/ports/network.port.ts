import { ClassboxError } from '../../common/errors.js';

/** Reachability of a host on the network, for the self-test. */
export abstract class NetworkPort {
  /** Open (and close) a TCP connection; resolves with the time it took, rejects with why it failed. */
  abstract probe(host: string, port: number, timeoutMs: number): Promise<number>;
}

export class NetworkError extends ClassboxError<'E-NETWORK-DOWN'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E-NETWORK-DOWN', message, options);
  }
}
