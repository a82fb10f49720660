import { Injectable } from '@nestjs/common';
import { ClockPort } from '../ports/clock.port.js';
import type { GpioLevel } from '../ports/gpio.port.js';
import {
  KeyInputPort,
  type KeyButtonOptions,
  type KeyDeviceState,
  type KeyInput,
  type KeyInputEvent,
} from '../ports/key-input.port.js';

interface SimKey {
  readonly options: KeyButtonOptions;
  level: GpioLevel;
  state: KeyDeviceState;
  readonly listeners: ((event: KeyInputEvent) => void)[];
}

/**
 * USB buttons without a USB device: keys are pressed by `simulateKey` (the control API's button presses)
 * and the device is plugged and unplugged by `simulateDevice`. One owner per label, as with GPIO lines.
 */
@Injectable()
export class SimKeyInput extends KeyInputPort {
  private readonly keys = new Map<string, SimKey>();

  constructor(private readonly clock: ClockPort) {
    super();
  }

  async open(options: KeyButtonOptions): Promise<KeyInput> {
    if (this.keys.has(options.label)) throw new Error(`the ${options.label} is already open`);
    const key: SimKey = { options, level: 0, state: plugged(options), listeners: [] };
    this.keys.set(options.label, key);
    return {
      watch: (listener) => {
        key.listeners.push(listener);
        listener({ type: 'device', state: key.state });
      },
      close: async () => void this.keys.delete(options.label),
    };
  }

  simulateKey(label: string, level: GpioLevel): void {
    const key = this.find(label);
    if (!key.state.present || key.level === level) return;
    key.level = level;
    this.emit(key, { type: 'level', level, at: this.clock.now() });
  }

  /** Plug (true) or unplug (false) the simulated device of a button. */
  simulateDevice(label: string, present: boolean): void {
    const key = this.find(label);
    if (key.state.present === present) return;
    if (!present && key.level === 1) {
      // Unplugging a held key ends the press, as the kernel does when a device goes.
      key.level = 0;
      this.emit(key, { type: 'level', level: 0, at: this.clock.now() });
    }
    key.state = present
      ? plugged(key.options)
      : { present: false, code: 'E-BUTTON-USB-MISSING', problem: 'the simulated USB button is unplugged' };
    this.emit(key, { type: 'device', state: key.state });
  }

  private find(label: string): SimKey {
    const key = this.keys.get(label);
    if (!key) throw new Error(`the ${label} is not an open USB button`);
    return key;
  }

  private emit(key: SimKey, event: KeyInputEvent): void {
    for (const listener of key.listeners) listener(event);
  }
}

function plugged(options: KeyButtonOptions): KeyDeviceState {
  return { present: true, name: options.device ?? 'Simulated USB button', path: '/dev/input/event-sim' };
}
