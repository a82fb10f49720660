/**
 * Failures per key (a client address) in a fixed window: after `limit` failures the key is
 * refused until its window ends. Pure: the caller passes the time. Memory is bounded: the
 * oldest windows are dropped first when `maxKeys` is reached.
 */
export class FailureWindow {
  private readonly windows = new Map<string, { startMs: number; failures: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Seconds until `key` may try again, or undefined when it may try now. */
  blockedFor(key: string, nowMs: number): number | undefined {
    const window = this.current(key, nowMs);
    if (!window || window.failures < this.limit) return undefined;
    return Math.max(1, Math.ceil((window.startMs + this.windowMs - nowMs) / 1000));
  }

  /** Count a failure; returns the failures of `key` in its window so far. */
  fail(key: string, nowMs: number): number {
    let window = this.current(key, nowMs);
    if (!window) {
      if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
      window = { startMs: nowMs, failures: 0 };
      this.windows.set(key, window);
    }
    window.failures += 1;
    return window.failures;
  }

  private current(key: string, nowMs: number): { startMs: number; failures: number } | undefined {
    const window = this.windows.get(key);
    if (window && nowMs - window.startMs >= this.windowMs) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }
}
