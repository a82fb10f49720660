import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BinaryValue, Direction, Edge, Options, ValueCallback } from 'onoff';
import { OnoffGpio } from '../../../device/adapters/gpio.onoff.js';
import { GpioBusyError, GpioChipNotFoundError } from '../../../device/ports/gpio.port.js';
import { SimulationUnsupportedError } from '../../../device/ports/health.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const trees = join(import.meta.dirname, '../../fixtures/hardware/sysfs-gpio');

/** Stands in for onoff's Gpio: records how each line was opened and lets the test drive edges. */
class FakeLine {
  static opened: FakeLine[] = [];
  static failWith: NodeJS.ErrnoException | undefined;
  value: BinaryValue = 0;
  readonly writes: BinaryValue[] = [];
  readonly callbacks: ValueCallback[] = [];
  unexported = false;

  constructor(
    readonly gpio: number,
    readonly direction: Direction,
    readonly edge?: Edge,
    readonly options?: Options,
  ) {
    if (FakeLine.failWith) throw FakeLine.failWith;
    FakeLine.opened.push(this);
  }
  async read(): Promise<BinaryValue> {
    return this.value;
  }
  async write(value: BinaryValue): Promise<void> {
    this.writes.push(value);
  }
  watch(callback: ValueCallback): void {
    this.callbacks.push(callback);
  }
  unwatchAll(): void {
    this.callbacks.length = 0;
  }
  unexport(): void {
    this.unexported = true;
  }
  edgeTo(value: BinaryValue): void {
    this.value = value;
    for (const cb of this.callbacks) cb(null, value);
  }
}

function make(tree: string) {
  FakeLine.opened = [];
  FakeLine.failWith = undefined;
  const clock = new FakeClock();
  return { clock, gpio: new OnoffGpio(clock, FakeLine, join(trees, tree)) };
}

describe('OnoffGpio', () => {
  it('opens a button as base + BCM, both edges, active-low, without onoff debounce', async () => {
    const { gpio } = make('pi4-kernel-6.6');
    await gpio.openInput(17, { label: 'class button', activeLow: true });
    const [line] = FakeLine.opened;
    expect(line).toMatchObject({
      gpio: 529,
      direction: 'in',
      edge: 'both',
      options: { activeLow: true, debounceTimeout: 0 },
    });
  });

  it('passes edges on with the clock time of the edge', async () => {
    const { gpio, clock } = make('pi5-kernel-6.6');
    const input = await gpio.openInput(27, { label: 'mute button', activeLow: true });
    const seen: [number, number][] = [];
    input.watch((level, at) => seen.push([level, at]));
    FakeLine.opened[0]!.edgeTo(1);
    await clock.advance(40);
    FakeLine.opened[0]!.edgeTo(0);
    expect(seen).toEqual([
      [1, 1_000_000],
      [0, 1_000_040],
    ]);
    expect(FakeLine.opened[0]!.gpio).toBe(598);
    expect(await input.read()).toBe(0);
  });

  it('starts an LED dark: raw low when active-high, raw high when active-low', async () => {
    const { gpio } = make('pi4-kernel-6.6');
    const led = await gpio.openOutput(22, { label: 'status LED', activeLow: false });
    await gpio.openOutput(23, { label: 'mute LED', activeLow: true });
    expect(FakeLine.opened.map((l) => [l.gpio, l.direction])).toEqual([
      [534, 'low'],
      [535, 'high'],
    ]);
    await led.write(1);
    expect(FakeLine.opened[0]!.writes).toEqual([1]);
  });

  it('names the pin, its use and the chips found when the board has no header chip', async () => {
    const { gpio } = make('pc-no-header');
    const opening = gpio.openInput(17, { label: 'class button', activeLow: true });
    await expect(opening).rejects.toBeInstanceOf(GpioChipNotFoundError);
    await expect(opening).rejects.toThrow(
      /GPIO 17 \(BCM\) for the class button .*gpiochip0=INT34C5:00.*gpiochip360=ftdi-cbus/,
    );
    expect(FakeLine.opened).toEqual([]);
  });

  it('refuses a second owner of one pin, naming both', async () => {
    const { gpio } = make('pi4-kernel-6.6');
    await gpio.openInput(17, { label: 'class button', activeLow: true });
    await expect(gpio.openOutput(17, { label: 'status LED', activeLow: false })).rejects.toThrow(
      'GPIO 17 for the status LED is already used by the class button',
    );
  });

  it('turns EBUSY from the kernel into GpioBusyError with the line number and the cause', async () => {
    const { gpio } = make('pi4-kernel-6.6');
    FakeLine.failWith = Object.assign(new Error('EBUSY: resource busy or locked, write'), { code: 'EBUSY' });
    const error = await gpio
      .openInput(17, { label: 'class button', activeLow: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpioBusyError);
    expect(error).toMatchObject({
      code: 'E-GPIO-BUSY',
      message: expect.stringContaining('line 529'),
      cause: FakeLine.failWith,
    });
  });

  it('unexports a line on close so the pin can be opened again', async () => {
    const { gpio } = make('pi4-kernel-6.6');
    const input = await gpio.openInput(17, { label: 'class button', activeLow: true });
    await input.close();
    expect(FakeLine.opened[0]!.unexported).toBe(true);
    await gpio.openInput(17, { label: 'class button', activeLow: true });
    expect(FakeLine.opened).toHaveLength(2);
  });

  it('cannot simulate presses on real pins', () => {
    const { gpio } = make('pi4-kernel-6.6');
    expect(() => gpio.simulateInput()).toThrow(SimulationUnsupportedError);
  });
});
