import { ClockPort, type TimerHandle } from '../../../device/ports/clock.port.js';

interface Timer {
  readonly id: number;
  due: number;
  readonly every: number | undefined;
  readonly fn: () => void;
}

/** A clock that only moves when the test says so; timers fire in due order during `advance`. */
export class FakeClock extends ClockPort {
  private time: number;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();

  constructor(start = 1_000_000) {
    super();
    this.time = start;
  }

  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, undefined);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, Math.max(1, ms));
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete((handle as { id: number }).id);
  }
  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  /** Move time forward by `ms`, firing every timer that falls due, and let promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const next = [...this.timers.values()].sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next || next.due > end) break;
      this.time = next.due;
      if (next.every === undefined) this.timers.delete(next.id);
      else next.due += next.every;
      next.fn();
      await flush();
    }
    this.time = end;
    await flush();
  }

  pending(): number {
    return this.timers.size;
  }

  private add(fn: () => void, ms: number, every: number | undefined): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.time + Math.max(0, ms), every, fn });
    return { id };
  }
}

export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
