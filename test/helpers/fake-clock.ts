import { ClockPort, type TimerHandle } from '../../device/ports/clock.port.js';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
  every?: number;
}

/** A clock that moves only when told: `advance(ms)` runs due timers in order. */
export class FakeClock extends ClockPort {
  private time: number;
  private nextId = 1;
  private timers: Timer[] = [];

  constructor(start = 1_000_000) {
    super();
    this.time = start;
  }

  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer;
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    this.timers = this.timers.filter((t) => t !== handle);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.time + ms, fn, every: Math.max(1, ms) };
    this.timers.push(timer);
    return timer;
  }
  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  /** Move time forward, running timers as they fall due, and let promises settle between them. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await flush();
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.time = due.at;
      if (due.every) due.at += due.every;
      else this.timers = this.timers.filter((t) => t !== due);
      due.fn();
    }
    this.time = end;
    await flush();
  }

  get pending(): number {
    return this.timers.length;
  }
}

/** Let queued promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}
