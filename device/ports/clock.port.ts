export type TimerHandle = { readonly __timer: unique symbol } | object;

/** Time and timers, injected so press timing and backoff are tested on a fake clock. */
export abstract class ClockPort {
  abstract now(): number;
  abstract setTimeout(fn: () => void, ms: number): TimerHandle;
  abstract clearTimeout(handle: TimerHandle | undefined): void;
  abstract setInterval(fn: () => void, ms: number): TimerHandle;
  abstract clearInterval(handle: TimerHandle | undefined): void;
  /** Resolves after `ms`; a convenience over setTimeout. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }
}
