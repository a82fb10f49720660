import { describe, expect, it } from 'vitest';
import { Signal } from '../../../common/signal.js';
import type { MediaReport, Receiving } from '../../../common/media-report.js';
import type { SessionSnapshot, SessionState } from '../../../device/domain/class-session.machine.js';
import type { KioskPagePort } from '../../../device/ports/kiosk-page.port.js';
import type {
  JanusMediaEvent,
  JanusPort,
  SubscribedStream,
  SubscriptionVideoSetting,
} from '../../../device/ports/janus.port.js';
import type { DaemonMessage, PageMessage } from '../../../device/protocol/kiosk-messages.js';
import type { ClassSessionService } from '../../../device/services/class-session.service.js';
import type { MediaService } from '../../../device/services/media.service.js';
import { ReceiveService } from '../../../device/services/receive.service.js';
import { FakeClock, flush } from '../../helpers/fake-clock.js';
import { strictFake } from '../../helpers/strict-fake.js';

const STREAMS: SubscribedStream[] = [
  { mid: '0', feed: 't', display: '王老师', type: 'audio' },
  { mid: '1', feed: 't', display: '王老师', type: 'video' },
  { mid: '2', feed: 'a', display: '兴国教学点', type: 'audio' },
  { mid: '3', feed: 'a', display: '兴国教学点', type: 'video' },
  { mid: '4', feed: 'b', display: '于都教学点', type: 'audio' },
  { mid: '5', feed: 'b', display: '于都教学点', type: 'video' },
];

function make(maxTeacherLayer: 'low' | 'mid' | 'high' = 'high') {
  let state: SessionState = 'idle';
  let receiving: readonly Receiving[] | undefined;
  const sent: DaemonMessage[] = [];
  const configured: (readonly SubscriptionVideoSetting[])[] = [];
  const sessionChanged = new Signal<SessionSnapshot>('t.session');
  const subscriptionChanged = new Signal<readonly SubscribedStream[]>('t.subscription');
  const mediaStats = new Signal<Extract<PageMessage, { type: 'media.stats' }>>('t.mediaStats');
  const mediaEvent = new Signal<JanusMediaEvent>('t.media');
  const clock = new FakeClock();
  const service = new ReceiveService(
    strictFake<ClassSessionService>('session', {
      changed: sessionChanged,
      subscriptionChanged,
      get state() {
        return { state };
      },
    }),
    strictFake<JanusPort>('janus', {
      mediaEvent,
      configureSubscription: async (videos) => {
        configured.push(videos);
      },
    }),
    strictFake<KioskPagePort>('page', { mediaStats, send: (m) => sent.push(m) > 0 }),
    strictFake<MediaService>('media', {
      maxThumbnails: () => 1,
      maxTeacherLayer: () => maxTeacherLayer,
      setReceiving: (r) => {
        receiving = r;
      },
    }),
    clock,
  );
  service.onApplicationBootstrap();
  return {
    service,
    sent,
    configured,
    clock,
    receiving: () => receiving,
    go: (next: SessionState) => {
      state = next;
      sessionChanged.emit({ state } as SessionSnapshot);
    },
    streams: (s: readonly SubscribedStream[]) => subscriptionChanged.emit(s),
    /** The page's report of the teacher over the last 2 s. */
    report: async (lossPct: number) => {
      await clock.advance(2000);
      const report: MediaReport = {
        outbound: {},
        inbound: [
          {
            feed: 't',
            video: {
              width: 1280,
              height: 720,
              fps: 24,
              lossPct,
              jitterMs: 5,
              freezes: 0,
              jitterBufferMs: 60,
            },
            audio: { lossPct, jitterMs: 5, concealedPct: 0, jitterBufferMs: 40 },
          },
        ],
      };
      mediaStats.emit({ type: 'media.stats', report });
    },
    slowLink: (mid?: string) =>
      mediaEvent.emit({
        kind: 'slowlink',
        target: 'subscriber',
        uplink: false,
        lost: 40,
        ...(mid ? { mid } : {}),
      }),
  };
}

describe('ReceiveService', () => {
  it("sets the teacher's layer, one thumbnail and a name tile in Janus and on the page when the streams come", async () => {
    const box = make();
    box.go('live');
    box.streams(STREAMS);
    await flush();
    expect(box.configured).toEqual([
      [
        { mid: '1', send: true, substream: 2, temporal: 2 },
        { mid: '3', send: true, substream: 0, temporal: 1 },
        { mid: '5', send: false, substream: 0, temporal: 1 },
      ],
    ]);
    expect(box.sent.at(-1)).toEqual({
      type: 'subscriber.video',
      feeds: [
        { feed: 't', shown: 'teacher' },
        { feed: 'a', shown: 'thumbnail' },
        { feed: 'b', shown: 'name' },
      ],
    });
    expect(box.receiving()).toEqual([
      { feed: 't', shown: 'teacher', substream: 2, temporal: 2 },
      { feed: 'a', shown: 'thumbnail', substream: 0, temporal: 1 },
      { feed: 'b', shown: 'name' },
    ]);
  });

  it("steps the teacher down on loss and Janus's slow link, sending Janus only the teacher's change", async () => {
    const box = make();
    box.go('live');
    box.streams(STREAMS);
    await box.report(0);
    await box.report(0);
    await box.report(12);
    await flush();
    expect(box.service.teacherLayer).toBe('mid');
    expect(box.configured.at(-1)).toEqual([{ mid: '1', send: true, substream: 1, temporal: 2 }]);
    await box.clock.advance(4000);
    // A thumbnail's slow link is not the teacher's.
    box.slowLink('3');
    await flush();
    expect(box.service.teacherLayer).toBe('mid');
    box.slowLink('1');
    await flush();
    expect(box.service.teacherLayer).toBe('low');
    expect(box.configured.at(-1)).toEqual([{ mid: '1', send: true, substream: 0, temporal: 2 }]);
  });

  it('pauses the teacher on a link too bad for the low layer and brings the low layer back first', async () => {
    const box = make();
    box.go('live');
    box.streams(STREAMS);
    for (let i = 0; i < 6; i++) await box.report(30);
    await flush();
    expect(box.service.teacherLayer).toBe('off');
    expect(box.configured.at(-1)).toEqual([{ mid: '1', send: false, substream: 0, temporal: 0 }]);
    expect(box.sent.at(-1)).toMatchObject({
      feeds: expect.arrayContaining([{ feed: 't', shown: 'paused' }]),
    });
    for (let i = 0; i < 3; i++) await box.report(0);
    await flush();
    expect(box.service.teacherLayer).toBe('low');
    expect(box.configured.at(-1)).toEqual([{ mid: '1', send: true, substream: 0, temporal: 2 }]);
  });

  it("starts at the board's largest teacher layer and never climbs above it (a Pi 4: the middle one)", async () => {
    const box = make('mid');
    box.go('live');
    box.streams(STREAMS);
    await flush();
    expect(box.service.teacherLayer).toBe('mid');
    expect(box.configured[0]?.[0]).toEqual({ mid: '1', send: true, substream: 1, temporal: 2 });
    // A minute of a clean link: still the middle layer, and nothing more asked of Janus.
    for (let i = 0; i < 30; i++) await box.report(0);
    await flush();
    expect(box.service.teacherLayer).toBe('mid');
    expect(box.configured).toHaveLength(1);
    // Down on loss and back up to it, not past it.
    await box.report(12);
    await flush();
    expect(box.service.teacherLayer).toBe('low');
    for (let i = 0; i < 30; i++) await box.report(0);
    await flush();
    expect(box.service.teacherLayer).toBe('mid');
    expect(box.configured.at(-1)).toEqual([{ mid: '1', send: true, substream: 1, temporal: 2 }]);
  });

  it('starts each class with the full picture and forgets the last one', async () => {
    const box = make();
    box.go('live');
    box.streams(STREAMS);
    for (let i = 0; i < 3; i++) await box.report(30);
    box.go('idle');
    expect(box.receiving()).toBeUndefined();
    box.go('live');
    box.streams(STREAMS);
    await flush();
    expect(box.service.teacherLayer).toBe('high');
    expect(box.configured.at(-1)?.[0]).toEqual({ mid: '1', send: true, substream: 2, temporal: 2 });
  });
});
