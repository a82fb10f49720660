import { describe, expect, it } from 'vitest';
import { nextClass } from '../../../device/domain/timetable.js';

const timetable = [
  { title: '高等数学', weekday: 1, start: '09:00', end: '10:30' },
  { title: '大学英语', weekday: 3, start: '14:00', end: '15:30' },
];

// 2026-11-30 is a Monday. 00:30 UTC = 08:30 in Shanghai.
const mondayMorningShanghai = Date.parse('2026-11-30T00:30:00Z');

describe('nextClass', () => {
  it("finds today's class in the centre's time zone", () => {
    expect(nextClass(timetable, 'Asia/Shanghai', mondayMorningShanghai)).toEqual({
      title: '高等数学',
      startsAt: '2026-11-30T01:00:00.000Z',
      endsAt: '2026-11-30T02:30:00.000Z',
    });
  });

  it('keeps showing a class while it is under way, then moves on', () => {
    const during = Date.parse('2026-11-30T01:30:00Z');
    expect(nextClass(timetable, 'Asia/Shanghai', during)?.title).toBe('高等数学');
    const after = Date.parse('2026-11-30T02:31:00Z');
    expect(nextClass(timetable, 'Asia/Shanghai', after)).toEqual({
      title: '大学英语',
      startsAt: '2026-12-02T06:00:00.000Z',
      endsAt: '2026-12-02T07:30:00.000Z',
    });
  });

  it('wraps to next week', () => {
    const thursday = Date.parse('2026-12-03T04:00:00Z');
    expect(nextClass(timetable, 'Asia/Shanghai', thursday)).toEqual({
      title: '高等数学',
      startsAt: '2026-12-07T01:00:00.000Z',
      endsAt: '2026-12-07T02:30:00.000Z',
    });
  });

  it('depends on the time zone: the same instant is Sunday evening in New York', () => {
    const sundayNewYork = Date.parse('2026-11-30T00:30:00Z');
    expect(nextClass(timetable, 'America/New_York', sundayNewYork)).toEqual({
      title: '高等数学',
      startsAt: '2026-11-30T14:00:00.000Z',
      endsAt: '2026-11-30T15:30:00.000Z',
    });
  });

  it('has nothing to show for an empty timetable', () => {
    expect(nextClass([], 'Asia/Shanghai', mondayMorningShanghai)).toBeUndefined();
  });
});
