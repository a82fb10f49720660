import { createLogger } from './logger.js';
import { reason } from './errors.js';

type Listener<T> = (value: T) => void | Promise<void>;

/**
 * A typed event with named listeners. A listener that throws (or rejects) is logged with
 * its owner and never breaks the emitter or the other listeners.
 */
export class Signal<T> {
  private readonly listeners = new Map<Listener<T>, string>();
  private static readonly log = createLogger('Signal');

  constructor(private readonly name: string) {}

  on(owner: string, listener: Listener<T>): () => void {
    this.listeners.set(listener, owner);
    return () => this.listeners.delete(listener);
  }

  emit(value: T): void {
    for (const [listener, owner] of [...this.listeners]) {
      try {
        const result = listener(value);
        if (result instanceof Promise) {
          result.catch((error: unknown) =>
            Signal.log.error(`Listener failed signal=${this.name} owner=${owner}: ${reason(error)}`),
          );
        }
      } catch (error) {
        Signal.log.error(`Listener failed signal=${this.name} owner=${owner}: ${reason(error)}`);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
