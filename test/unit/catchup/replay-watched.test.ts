import { describe, expect, it } from 'vitest';
import { addWatched, type CaughtUp } from '../../../device/domain/replay-watched.js';

const NONE: CaughtUp = { caughtUpMs: {}, watchedMs: {} };

describe('addWatched: minutes caught up (issue 21)', () => {
  it('counts 7 of a 10-minute part ended early, then only the rest when it is played on', () => {
    const seven = addWatched(NONE, 'c1', 'a.webm', 7 * 60_000, 10 * 60_000);
    expect(seven).toEqual({ caughtUpMs: { c1: 420_000 }, watchedMs: { 'a.webm': 420_000 } });
    const all = addWatched(seven, 'c1', 'a.webm', 10 * 60_000, 10 * 60_000);
    expect(all.caughtUpMs).toEqual({ c1: 600_000 });
  });

  it('sums the parts of a class and keeps classes apart', () => {
    let c = addWatched(NONE, 'c1', 'a.webm', 60_000, 60_000);
    c = addWatched(c, 'c1', 'b.webm', 30_000, 90_000);
    c = addWatched(c, 'c2', 'd.webm', 5000, 90_000);
    expect(c.caughtUpMs).toEqual({ c1: 90_000, c2: 5000 });
  });

  it('returns the same counts when nothing new was shown (a replay again, a 0, a negative)', () => {
    const c = addWatched(NONE, 'c1', 'a.webm', 30_000, 60_000);
    expect(addWatched(c, 'c1', 'a.webm', 20_000, 60_000)).toBe(c);
    expect(addWatched(c, 'c1', 'a.webm', 30_000, 60_000)).toBe(c);
    expect(addWatched(NONE, 'c1', 'a.webm', -5, 60_000)).toBe(NONE);
  });

  it('never counts more than the part', () => {
    expect(addWatched(NONE, 'c1', 'a.webm', 61_234, 60_000).caughtUpMs).toEqual({ c1: 60_000 });
  });
});
