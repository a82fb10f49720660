import { describe, expect, it } from 'vitest';
import { Signal } from '../../../common/signal.js';
import type { SessionSnapshot, SessionState } from '../../../device/domain/class-session.machine.js';
import type { NextClass } from '../../../device/domain/timetable.js';
import type { CachedReplay } from '../../../device/ports/catchup.port.js';
import type { KioskPagePort } from '../../../device/ports/kiosk-page.port.js';
import type { PageMessage } from '../../../device/protocol/kiosk-messages.js';
import type { CatchupService, ReplayOffer } from '../../../device/services/catchup.service.js';
import type { ClassSessionService } from '../../../device/services/class-session.service.js';
import type { NextClassService } from '../../../device/services/next-class.service.js';
import { REPLAY_PATH, ReplayService } from '../../../device/services/replay.service.js';
import { FakeClock, flush } from '../../helpers/fake-clock.js';
import { strictFake } from '../../helpers/strict-fake.js';

const T0 = Date.parse('2026-11-30T10:00:00Z');
const MIN = 60_000;

function part(name: string, fromMs: number, toMs: number): CachedReplay {
  return { classId: 'c1', fromMs, toMs, name: `${name.repeat(32)}.webm`, size: 1000 };
}

/** Two missed stretches of one class: 10 min and 2 min. */
const OFFER: ReplayOffer = {
  classId: 'c1',
  missedMs: 12 * MIN,
  replays: [part('a', T0 - 50 * MIN, T0 - 40 * MIN), part('b', T0 - 30 * MIN, T0 - 28 * MIN)],
};

type ReplayMessage = Extract<PageMessage, { type: 'replay' }>;

function world() {
  const clock = new FakeClock(T0);
  const session = {
    state: { state: 'idle' } as SessionSnapshot,
    changed: new Signal<SessionSnapshot>('session.changed'),
  };
  const catchup = {
    current: OFFER as ReplayOffer | undefined,
    watched: [] as { name: string; positionMs: number }[],
  };
  const timetable = { next: undefined as NextClass | undefined };
  const offerChanged = new Signal<ReplayOffer | undefined>('catchup.offerChanged');
  const nextChanged = new Signal<undefined>('next.changed');
  const replay = new Signal<ReplayMessage>('page.replay');
  const service = new ReplayService(
    strictFake<CatchupService>('CatchupService', {
      offerChanged,
      offer: () => catchup.current,
      markWatched: (name, positionMs) => void catchup.watched.push({ name, positionMs }),
    }),
    strictFake<ClassSessionService>(
      'ClassSessionService',
      session as unknown as Partial<ClassSessionService>,
    ),
    strictFake<KioskPagePort>('KioskPagePort', { replay: replay as unknown as KioskPagePort['replay'] }),
    clock,
    strictFake<NextClassService>('NextClassService', {
      window: () => timetable.next,
      changed: nextChanged as unknown as NextClassService['changed'],
    }),
  );
  service.onApplicationBootstrap();
  let changes = 0;
  service.changed.on('test', () => {
    changes++;
  });
  const page = (event: ReplayMessage['event'], name: string, watchedMs: number) =>
    replay.emit({ type: 'replay', event, src: `${REPLAY_PATH}/${name}`, watchedMs });
  const to = (state: SessionState) => {
    session.state = { state } as SessionSnapshot;
    session.changed.emit(session.state);
  };
  const classAt = (startMs: number) => {
    timetable.next = {
      title: '高等数学',
      startsAt: new Date(startMs).toISOString(),
      endsAt: new Date(startMs + 90 * MIN).toISOString(),
    };
  };
  return { service, clock, catchup, page, to, classAt, changes: () => changes };
}

const A = OFFER.replays[0]!.name;
const B = OFFER.replays[1]!.name;

describe('ReplayService: the catch-up replay on the idle screen (issue 21)', () => {
  it('offers the missed minutes while idle, and withdraws the offer when a class is due within 10 min', () => {
    const w = world();
    expect(w.service.view()).toEqual({ missedMinutes: 12 });
    w.classAt(T0 + 11 * MIN);
    expect(w.service.view()).toEqual({ missedMinutes: 12 });
    w.classAt(T0 + 10 * MIN - 1);
    expect(w.service.view()).toBeUndefined();
    // A press then is not the replay's: it starts the class.
    expect(w.service.onClassDown()).toBe(false);
    w.catchup.current = undefined;
    w.classAt(T0 + 60 * MIN);
    expect(w.service.view()).toBeUndefined();
    expect(w.service.onClassDown()).toBe(false);
  });

  it('offers nothing while the box is not idle', () => {
    const w = world();
    w.to('live');
    expect(w.service.view()).toBeUndefined();
    expect(w.service.onClassDown()).toBe(false);
  });

  it('plays the parts in order on a press, a press pauses and resumes, and the last part ends it', () => {
    const w = world();
    expect(w.service.onClassDown()).toBe(true);
    expect(w.service.view()).toEqual({
      missedMinutes: 12,
      playing: { src: `${REPLAY_PATH}/${A}`, part: 1, parts: 2, paused: false },
    });
    expect(w.service.onClassDown()).toBe(true);
    expect(w.service.view()?.playing?.paused).toBe(true);
    expect(w.service.onClassDown()).toBe(true);
    expect(w.service.view()?.playing?.paused).toBe(false);
    // A report about another part (a late one from the page) moves nothing.
    w.page('ended', B, 2 * MIN);
    expect(w.service.view()?.playing?.part).toBe(1);
    w.page('ended', A, 10 * MIN);
    expect(w.service.view()?.playing).toEqual({
      src: `${REPLAY_PATH}/${B}`,
      part: 2,
      parts: 2,
      paused: false,
    });
    w.page('ended', B, 2 * MIN);
    expect(w.catchup.watched).toEqual([
      { name: A, positionMs: 10 * MIN },
      { name: B, positionMs: 2 * MIN },
    ]);
    // Watched through: not offered again (the offer itself is CatchupService's; this one is dismissed).
    expect(w.service.view()).toBeUndefined();
    expect(w.service.onClassDown()).toBe(false);
  });

  it('goes on to the next part when one cannot be played', () => {
    const w = world();
    w.service.onClassDown();
    w.page('error', A, 0);
    expect(w.service.view()?.playing?.part).toBe(2);
    expect(w.catchup.watched).toEqual([]);
  });

  it('ends on a hold, counting the 7 of 10 minutes shown, and does not offer that class again', () => {
    const w = world();
    expect(w.service.onClassHold()).toBe(false);
    w.service.onClassDown();
    w.page('progress', A, 5 * MIN);
    w.page('progress', A, 7 * MIN);
    expect(w.catchup.watched).toEqual([]);
    expect(w.service.onClassHold()).toBe(true);
    expect(w.catchup.watched).toEqual([{ name: A, positionMs: 7 * MIN }]);
    expect(w.service.view()).toBeUndefined();
    // The next press is a class's.
    expect(w.service.onClassDown()).toBe(false);
  });

  it('ends at once when the box joins a class, counting what was shown', () => {
    const w = world();
    w.service.onClassDown();
    w.page('ended', A, 10 * MIN);
    w.page('progress', B, 30_000);
    const before = w.changes();
    w.to('joining');
    expect(w.changes()).toBeGreaterThan(before);
    expect(w.catchup.watched).toEqual([
      { name: A, positionMs: 10 * MIN },
      { name: B, positionMs: 30_000 },
    ]);
    w.to('idle');
    // Not dismissed: the rest can still be replayed after the class.
    expect(w.service.view()).toEqual({ missedMinutes: 12 });
  });

  it('ends when a timetabled class comes within 10 min while it plays', async () => {
    const w = world();
    w.classAt(T0 + 15 * MIN);
    w.service.onClassDown();
    w.page('progress', A, 4 * MIN);
    await w.clock.advance(4 * MIN);
    expect(w.service.view()?.playing).toBeDefined();
    await w.clock.advance(1 * MIN + 5000);
    await flush();
    expect(w.service.view()).toBeUndefined();
    expect(w.catchup.watched).toEqual([{ name: A, positionMs: 4 * MIN }]);
    expect(w.clock.pending).toBe(0);
  });
});
