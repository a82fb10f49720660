import { describe, expect, it } from 'vitest';
import {
  applyMiss,
  EMPTY_LOG,
  KEEP_CLASSES,
  missedMs,
  type MissEvent,
  type MissedLog,
} from '../../../device/domain/missed-intervals.js';

const T0 = Date.parse('2026-11-30T08:00:00Z');
const s = (sec: number) => T0 + sec * 1000;

function run(events: MissEvent[], from: MissedLog = EMPTY_LOG): MissedLog {
  return events.reduce(applyMiss, from);
}

describe('missed intervals (issue 21)', () => {
  it('records a 30 s link loss in the middle of a class', () => {
    const log = run([
      { type: 'joined', atMs: s(0), room: 2222 },
      { type: 'lost', atMs: s(60), reason: 'reconnecting' },
      { type: 'restored', atMs: s(90) },
      { type: 'left', atMs: s(300) },
    ]);
    expect(log.current).toBeUndefined();
    expect(log.ended).toHaveLength(1);
    expect(log.ended[0]).toMatchObject({
      classId: '2222@2026-11-30T08:00:00.000Z',
      room: 2222,
      endedAtMs: s(300),
      missed: [{ fromMs: s(60), toMs: s(90), reason: 'reconnecting' }],
    });
    expect(missedMs(log.ended[0]!)).toBe(30_000);
  });

  it('shows a stretch still being missed as open, and closes it when the class ends', () => {
    const during = run([
      { type: 'joined', atMs: s(0), room: 1 },
      { type: 'lost', atMs: s(10), reason: 'reconnecting' },
      { type: 'lost', atMs: s(20), reason: 'reconnecting' },
    ]);
    expect(during.current?.openSinceMs).toBe(s(10));
    const after = applyMiss(during, { type: 'left', atMs: s(40) });
    expect(after.ended[0]?.missed).toEqual([{ fromMs: s(10), toMs: s(40), reason: 'reconnecting' }]);
  });

  it('counts a late join against the timetable, but not a start from another day', () => {
    const late = run([{ type: 'joined', atMs: s(600), room: 1, scheduledStartMs: s(0) }]);
    expect(late.current?.missed).toEqual([{ fromMs: s(0), toMs: s(600), reason: 'joinedLate' }]);
    const yesterday = run([{ type: 'joined', atMs: s(600), room: 1, scheduledStartMs: s(600 - 86_400) }]);
    expect(yesterday.current?.missed).toEqual([]);
  });

  it('drops blips and merges stretches that nearly touch', () => {
    const log = run([
      { type: 'joined', atMs: s(0), room: 1 },
      { type: 'lost', atMs: s(10), reason: 'reconnecting' },
      { type: 'restored', atMs: s(11) },
      { type: 'lost', atMs: s(20), reason: 'reconnecting' },
      { type: 'restored', atMs: s(30) },
      { type: 'lost', atMs: s(32), reason: 'reconnecting' },
      { type: 'restored', atMs: s(40) },
      { type: 'left', atMs: s(50) },
    ]);
    expect(log.ended[0]?.missed).toEqual([{ fromMs: s(20), toMs: s(40), reason: 'reconnecting' }]);
  });

  it('forgets a class with nothing missed, and keeps only the newest classes', () => {
    expect(
      run([
        { type: 'joined', atMs: s(0), room: 1 },
        { type: 'left', atMs: s(10) },
      ]).ended,
    ).toEqual([]);
    let log = EMPTY_LOG;
    for (let i = 0; i < KEEP_CLASSES + 3; i++) {
      log = run(
        [
          { type: 'joined', atMs: s(i * 1000), room: 1 },
          { type: 'lost', atMs: s(i * 1000 + 10), reason: 'reconnecting' },
          { type: 'left', atMs: s(i * 1000 + 20) },
        ],
        log,
      );
    }
    expect(log.ended).toHaveLength(KEEP_CLASSES);
    expect(log.ended[0]?.joinedAtMs).toBe(s(3000));
  });

  it('ends a class left open by a crash when the next one is joined', () => {
    const log = run([
      { type: 'joined', atMs: s(0), room: 1 },
      { type: 'lost', atMs: s(10), reason: 'reconnecting' },
      { type: 'joined', atMs: s(100), room: 1 },
    ]);
    expect(log.ended[0]?.missed).toEqual([{ fromMs: s(10), toMs: s(100), reason: 'reconnecting' }]);
    expect(log.current?.joinedAtMs).toBe(s(100));
  });

  it('keeps why a stretch was missed, and never dates it before the join', () => {
    const log = run([
      { type: 'joined', atMs: s(100), room: 1 },
      { type: 'lost', atMs: s(40), reason: 'stalled' },
      { type: 'restored', atMs: s(130) },
    ]);
    expect(log.current?.missed).toEqual([{ fromMs: s(100), toMs: s(130), reason: 'stalled' }]);
  });

  it('ignores losses outside a class', () => {
    expect(
      run([
        { type: 'lost', atMs: s(1), reason: 'reconnecting' },
        { type: 'restored', atMs: s(9) },
      ]),
    ).toEqual(EMPTY_LOG);
  });
});
