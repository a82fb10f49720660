import {
  Injectable,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { createLogger } from '../../common/logger.js';
import { Signal } from '../../common/signal.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import { KioskPagePort } from '../ports/kiosk-page.port.js';
import type { ScreenState } from '../protocol/kiosk-messages.js';
import { CatchupService, type ReplayOffer } from './catchup.service.js';
import { ClassSessionService } from './class-session.service.js';
import { NextClassService } from './next-class.service.js';

/** No replay is offered or kept playing this close to a timetabled class: the class wins. */
export const CLASS_GUARD_MS = 10 * 60_000;
/** How often a replay checks whether a class is due. */
const GUARD_CHECK_MS = 5000;

/** Where the page fetches a cached video from (the daemon's own loopback server). */
export const REPLAY_PATH = '/catchup/videos';

interface Playing {
  readonly offer: ReplayOffer;
  index: number;
  paused: boolean;
  /** How far the page has shown the current part (its last `progress`), ms. */
  positionMs: number;
}

/**
 * The replay of a class's missed stretches on the idle screen (issue 21): offered while idle with no
 * class due; a press of the green (class) button plays the stretches full screen in order, a press
 * pauses and resumes, a hold ends it. A class due soon, or the box joining one, ends it at once. The
 * buttons ask this service first while the box is idle.
 */
@Injectable()
export class ReplayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger(ReplayService.name);
  private playing: Playing | undefined;
  /** The offer the tutor ended by a hold: not offered again (the next press starts a class). */
  private dismissed: string | undefined;
  private guardTimer: TimerHandle | undefined;
  readonly changed = new Signal<void>('replay.changed');

  constructor(
    private readonly catchup: CatchupService,
    private readonly session: ClassSessionService,
    private readonly page: KioskPagePort,
    private readonly clock: ClockPort,
    @Optional() private readonly nextClass?: NextClassService,
  ) {}

  onApplicationBootstrap(): void {
    const owner = ReplayService.name;
    this.catchup.offerChanged.on(owner, () => this.changed.emit());
    this.nextClass?.changed.on(owner, () => this.changed.emit());
    this.session.changed.on(owner, ({ state }) => {
      if (state !== 'idle' && this.playing) this.stop(`the box is ${state}`);
    });
    this.page.replay.on(owner, (message) => this.onPageEvent(message));
  }

  onApplicationShutdown(): void {
    this.clock.clearInterval(this.guardTimer);
  }

  /** What the idle screen shows of catch-up (undefined: nothing). */
  view(): ScreenState['catchup'] {
    if (this.session.state.state !== 'idle') return undefined;
    const playing = this.playing;
    if (playing) {
      const replay = playing.offer.replays[playing.index]!;
      return {
        missedMinutes: minutes(playing.offer.missedMs),
        playing: {
          src: `${REPLAY_PATH}/${replay.name}`,
          part: playing.index + 1,
          parts: playing.offer.replays.length,
          paused: playing.paused,
        },
      };
    }
    const offer = this.offer();
    return offer ? { missedMinutes: minutes(offer.missedMs) } : undefined;
  }

  /** The class button went down while idle: true if the replay took the press (no class starts). */
  onClassDown(): boolean {
    if (this.session.state.state !== 'idle') return false;
    if (this.playing) {
      this.playing.paused = !this.playing.paused;
      this.log.info(
        `${this.playing.paused ? 'Paused' : 'Resumed'} replay class=${this.playing.offer.classId}`,
      );
      this.changed.emit();
      return true;
    }
    const offer = this.offer();
    if (!offer) return false;
    this.playing = { offer, index: 0, paused: false, positionMs: 0 };
    this.clock.clearInterval(this.guardTimer);
    this.guardTimer = this.clock.setInterval(() => {
      if (this.classDue()) this.stop('a class is due');
    }, GUARD_CHECK_MS);
    this.log.info(`Started replay class=${offer.classId} parts=${offer.replays.length}`);
    this.changed.emit();
    return true;
  }

  /** The class button was held while idle: true if it ended a replay. */
  onClassHold(): boolean {
    if (!this.playing) return false;
    this.dismissed = this.playing.offer.classId;
    this.stop('the tutor held the button');
    return true;
  }

  private offer(): ReplayOffer | undefined {
    if (this.classDue()) return undefined;
    const offer = this.catchup.offer();
    return offer && offer.classId !== this.dismissed ? offer : undefined;
  }

  /** A class on the timetable under way or starting within {@link CLASS_GUARD_MS}. */
  private classDue(): boolean {
    const next = this.nextClass?.window();
    if (!next) return false;
    return Date.parse(next.startsAt) - this.clock.now() < CLASS_GUARD_MS;
  }

  private onPageEvent(message: {
    event: 'progress' | 'ended' | 'error';
    src: string;
    watchedMs: number;
    error?: string;
  }): void {
    const playing = this.playing;
    if (!playing) return;
    const replay = playing.offer.replays[playing.index]!;
    if (message.src !== `${REPLAY_PATH}/${replay.name}`) return;
    playing.positionMs = Math.max(playing.positionMs, message.watchedMs);
    // Kept in memory while the part plays (the card is not written every few seconds); counted when
    // the part ends or the replay stops.
    if (message.event === 'progress') return;
    if (message.event === 'error')
      this.log.warn(`Can't play replay part=${replay.name}: ${message.error ?? ''}`);
    // Counted as caught up: what was shown, never more than the stretch.
    if (playing.positionMs > 0) this.catchup.markWatched(replay.name, playing.positionMs);
    playing.index++;
    playing.positionMs = 0;
    if (playing.index >= playing.offer.replays.length) {
      this.dismissed = playing.offer.classId;
      this.stop('every part was played');
      return;
    }
    this.changed.emit();
  }

  private stop(why: string): void {
    const playing = this.playing;
    if (!playing) return;
    this.log.info(`Ended replay class=${playing.offer.classId}: ${why}`);
    this.playing = undefined;
    // A replay ended by a hold or a class counts what was shown of the part it was in.
    const replay = playing.offer.replays[playing.index];
    if (replay && playing.positionMs > 0) this.catchup.markWatched(replay.name, playing.positionMs);
    this.clock.clearInterval(this.guardTimer);
    this.guardTimer = undefined;
    this.changed.emit();
  }
}

function minutes(ms: number): number {
  return Math.max(1, Math.round(ms / 60_000));
}
