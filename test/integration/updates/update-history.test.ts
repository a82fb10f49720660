import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsUpdateState } from '../../../device/adapters/update-state.fs.js';
import type { UpdateOutcome } from '../../../device/domain/update-plan.js';
import { UPDATE_HISTORY_KEPT } from '../../../device/ports/update.port.js';

const outcome = (n: number, result: UpdateOutcome['result'] = 'installed'): UpdateOutcome => ({
  version: `0.${n}.0`,
  result,
  ...(result === 'installed' ? {} : { code: 'E-UPDATE-UNHEALTHY', detail: 'never healthy' }),
  at: new Date(Date.UTC(2026, 10, 30, 12, 0, n)).toISOString(),
});

/** The box's update history on a real file system: appended, kept across restarts, bounded, torn-line safe. */
describe("the box's update history", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-history-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every outcome in order, beside the last one, across a new adapter (a restart)', async () => {
    const state = new FsUpdateState(dir);
    expect(await state.readHistory()).toEqual([]);
    await state.writeOutcome(outcome(1));
    await state.writeOutcome(outcome(2, 'rolled-back'));
    await state.writeOutcome(outcome(3));
    const again = new FsUpdateState(dir);
    expect(await again.readHistory()).toEqual([outcome(1), outcome(2, 'rolled-back'), outcome(3)]);
    expect(await again.readOutcome()).toEqual(outcome(3));
  });

  it('skips a line torn by a power cut and puts the next outcome on a line of its own', async () => {
    const state = new FsUpdateState(dir);
    await state.writeOutcome(outcome(1));
    // What a cut in the middle of an append leaves: half a line, no newline.
    appendFileSync(join(dir, 'update', 'history.jsonl'), '{"version":"0.2.0","res');
    expect(await state.readHistory()).toEqual([outcome(1)]);
    await state.writeOutcome(outcome(3));
    expect(await state.readHistory()).toEqual([outcome(1), outcome(3)]);
  });

  it(`keeps the last ${UPDATE_HISTORY_KEPT} outcomes only`, async () => {
    const state = new FsUpdateState(dir);
    for (let n = 1; n <= UPDATE_HISTORY_KEPT + 5; n++) await state.writeOutcome(outcome(n));
    const history = await state.readHistory();
    expect(history).toHaveLength(UPDATE_HISTORY_KEPT);
    expect(history[0]).toEqual(outcome(6));
    expect(history.at(-1)).toEqual(outcome(UPDATE_HISTORY_KEPT + 5));
    expect(readFileSync(join(dir, 'update', 'history.jsonl'), 'utf8').endsWith('\n')).toBe(true);
  });
});
