import type { Page } from 'puppeteer-core';

/**
 * The epoch time (ms, same clock as the runner's `performance.timeOrigin + performance.now()`) at which
 * `teacher` first decoded a frame from the publisher named `display`. The teacher page records the first
 * frame per feed with requestVideoFrameCallback; a 5 ms getStats poll in the page backs it up where
 * that callback does not fire, and the earlier of the two is taken.
 */
export async function firstFrameEpoch(
  teacher: Page,
  display: string,
  timeoutMs: number,
): Promise<{ at: number; how: 'rvfc' | 'stats' }> {
  const result = await teacher.evaluate(
    async (name: string, limit: number) => {
      type Teacher = {
        state: { publishers: Map<string, { display: string }>; firstFrameAt: Record<string, number> };
        remote(): Promise<{ feed: string; display: string; framesDecoded: number }[]>;
      };
      const t = (globalThis as unknown as { teacher: Teacher }).teacher;
      const feedOf = (): string | undefined =>
        [...t.state.publishers.entries()].find(([, p]) => p.display === name)?.[0];
      const deadline = performance.now() + limit;
      while (performance.now() < deadline) {
        const feed = feedOf();
        const fromCallback = feed === undefined ? undefined : t.state.firstFrameAt[feed];
        if (fromCallback !== undefined)
          return { at: performance.timeOrigin + fromCallback, how: 'rvfc' as const };
        const seen = (await t.remote()).find((r) => r.display === name);
        if (seen && seen.framesDecoded > 0) {
          const now = performance.now();
          const late = feed === undefined ? undefined : t.state.firstFrameAt[feed];
          return { at: performance.timeOrigin + Math.min(now, late ?? now), how: 'stats' as const };
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      return { at: Number.NaN, how: 'timeout' as const };
    },
    display,
    timeoutMs,
  );
  if (!Number.isFinite(result.at))
    throw new Error(`the teacher decoded no frame of ${display} within ${timeoutMs} ms`);
  return { at: result.at, how: result.how === 'rvfc' ? 'rvfc' : 'stats' };
}

/** Forget first frames seen so far, so a publisher that comes back under the same feed id is timed afresh. */
export async function resetFirstFrames(teacher: Page): Promise<void> {
  await teacher.evaluate(() => {
    const t = (globalThis as unknown as { teacher: { state: { firstFrameAt: Record<string, number> } } })
      .teacher;
    for (const key of Object.keys(t.state.firstFrameAt)) delete t.state.firstFrameAt[key];
  });
}

/**
 * Starts watching `teacher` for the publisher named `display` to appear in its room list (Janus's
 * `publishers` event, which the VideoRoom sends once that publisher's media is up); resolves with the
 * epoch time it appeared. Start it before the join it times.
 */
export function publisherSeenEpoch(teacher: Page, display: string, timeoutMs: number): Promise<number> {
  return teacher.evaluate(
    async (name: string, limit: number) => {
      const t = (
        globalThis as unknown as { teacher: { state: { publishers: Map<string, { display: string }> } } }
      ).teacher;
      const deadline = performance.now() + limit;
      while (performance.now() < deadline) {
        if ([...t.state.publishers.values()].some((p) => p.display === name))
          return performance.timeOrigin + performance.now();
        await new Promise((r) => setTimeout(r, 2));
      }
      return Number.NaN;
    },
    display,
    timeoutMs,
  );
}

export function nowEpoch(): number {
  return performance.timeOrigin + performance.now();
}
