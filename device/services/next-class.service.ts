import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { DesiredConfig } from '../../common/fleet-protocol.js';
import { Signal } from '../../common/signal.js';
import { nextClass, type NextClass } from '../domain/timetable.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';

export interface NextClassView {
  readonly title: string;
  readonly startsAt: string;
}

/**
 * The centre's timetable as the fleet sent it: the class under way or next, for the idle screen
 * and the updater's window, and a timer that moves the screen on when a class ends.
 */
@Injectable()
export class NextClassService implements OnApplicationShutdown {
  private timetable: Pick<DesiredConfig, 'timetable' | 'timezone'> | undefined;
  private timer: TimerHandle | undefined;
  private stopping = false;
  /** The next class moved on (a class ended, or a new timetable came). */
  readonly changed = new Signal<NextClassView | undefined>('fleet.nextClassChanged');

  constructor(private readonly clock: ClockPort) {}

  onApplicationShutdown(): void {
    this.stopping = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The timetable saved at an earlier start: nothing on screen changes yet. */
  restore(config: DesiredConfig): void {
    this.timetable = config;
    this.arm();
  }

  /** A new timetable from the fleet: the screen shows its next class. */
  replace(config: DesiredConfig): void {
    this.timetable = config;
    this.arm();
    this.changed.emit(this.next());
  }

  /** The class under way or the next one on the centre's timetable, for the idle screen. */
  next(): NextClassView | undefined {
    const next = this.window();
    return next && { title: next.title, startsAt: next.startsAt };
  }

  /** The class under way or next, with its end, for the updater's window. */
  window(): NextClass | undefined {
    if (!this.timetable) return undefined;
    return nextClass(this.timetable.timetable, this.timetable.timezone, this.clock.now());
  }

  /** Tell the screen when a class ends, so an idle box never shows a class that is over. */
  private arm(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.window();
    if (!next || this.stopping) return;
    const delay = Math.max(0, Date.parse(next.endsAt) - this.clock.now()) + 1000;
    this.timer = this.clock.setTimeout(() => {
      this.changed.emit(this.next());
      this.arm();
    }, delay);
  }
}
