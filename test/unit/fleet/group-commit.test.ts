import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../provisioning/domain/group-commit.js';

/** A writer that records its batches and finishes each one only when the test says so. */
function recordingWriter() {
  const batches: string[][] = [];
  const finish: (() => void)[] = [];
  let fail: Error | undefined;
  const write = (items: readonly string[]): Promise<string[]> => {
    batches.push([...items]);
    const failure = fail;
    fail = undefined;
    return new Promise((resolve, reject) =>
      finish.push(() => (failure ? reject(failure) : resolve(items.map((i) => `stored ${i}`)))),
    );
  };
  return { batches, finish, write, failNext: (error: Error) => (fail = error) };
}

/** Runs what `later` was given only when the test calls `tick`. */
function manualScheduler() {
  const pending: (() => void)[] = [];
  return {
    later: (run: () => void) => void pending.push(run),
    tick: () => pending.splice(0).forEach((r) => r()),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('writes what was submitted together in one batch, in order, and answers each caller', async () => {
    const writer = recordingWriter();
    const scheduler = manualScheduler();
    const group = new GroupCommit(writer.write, 100, scheduler.later);
    const answers = ['a', 'b', 'c'].map((x) => group.submit(x));
    scheduler.tick();
    expect(writer.batches).toEqual([['a', 'b', 'c']]);
    writer.finish[0]!();
    expect(await Promise.all(answers)).toEqual(['stored a', 'stored b', 'stored c']);
  });

  it('answers nobody before their batch is written; what arrives meanwhile goes in the next batch', async () => {
    const writer = recordingWriter();
    const scheduler = manualScheduler();
    const group = new GroupCommit(writer.write, 100, scheduler.later);
    let firstDone = false;
    const first = group.submit('a').then((r) => ((firstDone = true), r));
    scheduler.tick();
    const second = [group.submit('b'), group.submit('c')];
    await settle();
    expect(firstDone).toBe(false);
    expect(writer.batches).toEqual([['a']]);
    writer.finish[0]!();
    expect(await first).toBe('stored a');
    await settle();
    expect(writer.batches).toEqual([['a'], ['b', 'c']]);
    writer.finish[1]!();
    expect(await Promise.all(second)).toEqual(['stored b', 'stored c']);
  });

  it('splits a long queue into batches of at most the limit', async () => {
    const writer = recordingWriter();
    const scheduler = manualScheduler();
    const group = new GroupCommit(writer.write, 2, scheduler.later);
    const answers = ['a', 'b', 'c'].map((x) => group.submit(x));
    scheduler.tick();
    writer.finish[0]!();
    await settle();
    writer.finish[1]!();
    expect(await Promise.all(answers)).toEqual(['stored a', 'stored b', 'stored c']);
    expect(writer.batches).toEqual([['a', 'b'], ['c']]);
  });

  it('fails every caller of a failed batch and keeps working for the next', async () => {
    const writer = recordingWriter();
    const scheduler = manualScheduler();
    const group = new GroupCommit(writer.write, 100, scheduler.later);
    writer.failNext(new Error('disk full'));
    const doomed = [group.submit('a'), group.submit('b')];
    scheduler.tick();
    writer.finish[0]!();
    for (const d of doomed) await expect(d).rejects.toThrow('disk full');
    const later = group.submit('c');
    scheduler.tick();
    writer.finish[1]!();
    expect(await later).toBe('stored c');
  });
});
