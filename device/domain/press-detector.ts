/**
 * Debounce and press/hold detection for one button, as pure logic on injected time.
 * Feed it raw line levels (already mapped to pressed = true) with timestamps; it emits
 * `down`, `hold` (each threshold once per press, as it is crossed) and `up` with the press length.
 * Hold thresholds are reported by `poll(now)` so the caller decides the timer granularity.
 */
export type PressEvent =
  | { type: 'down'; at: number }
  | { type: 'hold'; at: number; thresholdMs: number }
  | { type: 'up'; at: number; heldMs: number };

export interface PressDetectorOptions {
  /** Level changes shorter than this are contact bounce and ignored. */
  debounceMs: number;
  /** Hold thresholds to report while the button stays down, in ms. */
  holdThresholdsMs: readonly number[];
}

export class PressDetector {
  private stable = false;
  private pending: { level: boolean; since: number } | undefined;
  private downAt: number | undefined;
  private readonly reported = new Set<number>();
  private readonly thresholds: number[];

  constructor(private readonly options: PressDetectorOptions) {
    this.thresholds = [...options.holdThresholdsMs].sort((a, b) => a - b);
  }

  get isDown(): boolean {
    return this.downAt !== undefined;
  }

  /** How long the button has been down at `now`, or 0. */
  heldFor(now: number): number {
    return this.downAt === undefined ? 0 : Math.max(0, now - this.downAt);
  }

  /** A raw level change from the pin. Returns what became certain by `at`. */
  input(pressed: boolean, at: number): PressEvent[] {
    const events = this.poll(at);
    if (pressed === this.stable) {
      this.pending = undefined;
      return events;
    }
    if (this.pending?.level !== pressed) this.pending = { level: pressed, since: at };
    if (this.options.debounceMs === 0) events.push(...this.poll(at));
    return events;
  }

  /** Settle a pending level once it has been stable for the debounce time; report holds crossed. */
  poll(now: number): PressEvent[] {
    const events: PressEvent[] = [];
    if (this.pending && now - this.pending.since >= this.options.debounceMs) {
      const { level, since } = this.pending;
      this.pending = undefined;
      this.stable = level;
      if (level) {
        this.downAt = since;
        this.reported.clear();
        events.push({ type: 'down', at: since });
      } else if (this.downAt !== undefined) {
        events.push(...this.holdsUntil(since));
        events.push({ type: 'up', at: since, heldMs: since - this.downAt });
        this.downAt = undefined;
      }
    }
    if (this.downAt !== undefined) events.push(...this.holdsUntil(now));
    return events;
  }

  private holdsUntil(now: number): PressEvent[] {
    const events: PressEvent[] = [];
    if (this.downAt === undefined) return events;
    for (const t of this.thresholds) {
      if (!this.reported.has(t) && now - this.downAt >= t) {
        this.reported.add(t);
        events.push({ type: 'hold', at: this.downAt + t, thresholdMs: t });
      }
    }
    return events;
  }
}
