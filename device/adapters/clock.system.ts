import { Injectable } from '@nestjs/common';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';

@Injectable()
export class SystemClock extends ClockPort {
  now(): number {
    return performance.timeOrigin + performance.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return setTimeout(fn, ms);
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) clearTimeout(handle as NodeJS.Timeout);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    return setInterval(fn, ms);
  }
  clearInterval(handle: TimerHandle | undefined): void {
    if (handle) clearInterval(handle as NodeJS.Timeout);
  }
}
