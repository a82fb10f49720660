/** Exponential backoff with full jitter, capped; `random` is injected so tests are exact. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {}

  get attempts(): number {
    return this.attempt;
  }

  /** Delay before the next try: between half and all of the capped exponential step. */
  next(): number {
    const { initialMs, maxMs, factor = 2, random = Math.random } = this.options;
    const step = Math.min(maxMs, initialMs * factor ** this.attempt);
    this.attempt += 1;
    return Math.round(step / 2 + (random() * step) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}
