import { describe, expect, it } from 'vitest';
import { PressDetector, type PressEvent } from '../../../device/domain/press-detector.js';

/** Feeds the detector raw edges at given times on a manual clock, polling as the service does. */
function run(detector: PressDetector, script: [at: number, pressed: boolean | 'poll'][]): PressEvent[] {
  const events: PressEvent[] = [];
  for (const [at, pressed] of script) {
    events.push(...(pressed === 'poll' ? detector.poll(at) : detector.input(pressed, at)));
  }
  return events;
}

describe('PressDetector', () => {
  const options = { debounceMs: 30, holdThresholdsMs: [5000, 2000] };

  it('reports a clean short press as down then up with its length', () => {
    const events = run(new PressDetector(options), [
      [0, true],
      [30, 'poll'],
      [200, false],
      [230, 'poll'],
    ]);
    expect(events).toEqual([
      { type: 'down', at: 0 },
      { type: 'up', at: 200, heldMs: 200 },
    ]);
  });

  it('ignores contact bounce shorter than the debounce time', () => {
    const events = run(new PressDetector(options), [
      [0, true],
      [5, false],
      [9, true],
      [12, false],
      [50, 'poll'],
    ]);
    expect(events).toEqual([]);
  });

  it('dates the press from the last bounce before the level settled', () => {
    const events = run(new PressDetector(options), [
      [0, true],
      [4, false],
      [8, true],
      [38, 'poll'],
      [508, false],
      [512, true],
      [515, false],
      [545, 'poll'],
    ]);
    expect(events).toEqual([
      { type: 'down', at: 8 },
      { type: 'up', at: 515, heldMs: 507 },
    ]);
  });

  it('reports each hold threshold once, in order, as it is crossed', () => {
    const detector = new PressDetector(options);
    const events = run(detector, [
      [0, true],
      [30, 'poll'],
      [1999, 'poll'],
      [2000, 'poll'],
      [2050, 'poll'],
      [5000, 'poll'],
      [5500, false],
      [5530, 'poll'],
    ]);
    expect(events).toEqual([
      { type: 'down', at: 0 },
      { type: 'hold', at: 2000, thresholdMs: 2000 },
      { type: 'hold', at: 5000, thresholdMs: 5000 },
      { type: 'up', at: 5500, heldMs: 5500 },
    ]);
    expect(detector.isDown).toBe(false);
  });

  it('reports holds crossed before a late release even when no poll came in between', () => {
    const events = run(new PressDetector(options), [
      [0, true],
      [30, 'poll'],
      [6000, false],
      [6030, 'poll'],
    ]);
    expect(events.map((e) => e.type)).toEqual(['down', 'hold', 'hold', 'up']);
  });

  it('does not report a 4.9 s hold as the 5 s self-test hold', () => {
    const events = run(new PressDetector(options), [
      [0, true],
      [30, 'poll'],
      [4900, false],
      [4930, 'poll'],
      [9000, 'poll'],
    ]);
    expect(
      events.filter((e) => e.type === 'hold').map((e) => (e as { thresholdMs: number }).thresholdMs),
    ).toEqual([2000]);
  });

  it('knows how long the button has been held', () => {
    const detector = new PressDetector(options);
    run(detector, [
      [100, true],
      [130, 'poll'],
    ]);
    expect(detector.heldFor(1600)).toBe(1500);
  });

  it('settles at once with a zero debounce time', () => {
    const detector = new PressDetector({ debounceMs: 0, holdThresholdsMs: [] });
    expect(detector.input(true, 10)).toEqual([{ type: 'down', at: 10 }]);
    expect(detector.input(false, 20)).toEqual([{ type: 'up', at: 20, heldMs: 10 }]);
  });
});
