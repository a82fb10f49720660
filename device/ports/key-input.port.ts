import type { GpioLevel } from './gpio.port.js';

/** Which key of which input device is a button. */
export interface KeyButtonOptions {
  /** Label for logs and errors, e.g. "class button". */
  readonly label: string;
  /** A fragment of the device's name as the kernel reports it; absent = the first device that can send `key`. */
  readonly device?: string;
  /** The Linux key code (`KEY_ENTER` = 28). */
  readonly key: number;
}

export type KeyDeviceState =
  | { readonly present: true; readonly name: string; readonly path: string }
  | {
      readonly present: false;
      readonly code: 'E-BUTTON-USB-MISSING' | 'E-BUTTON-USB-ACCESS';
      readonly problem: string;
    };

export type KeyInputEvent =
  /** The key went down (1) or up (0), at the clock's time (ms). */
  | { readonly type: 'level'; readonly level: GpioLevel; readonly at: number }
  /** The device appeared, went away, or cannot be read (hot-plug). */
  | { readonly type: 'device'; readonly state: KeyDeviceState }
  /**
   * The key autorepeats while it was never seen going down: it was already held when the device was
   * opened (a stuck or taped-down button). Its release, later, is an ordinary `level` 0.
   */
  | { readonly type: 'heldBeforeOpen'; readonly at: number };

export interface KeyInput {
  /** Every event from now on; the current device state is delivered at once. */
  watch(listener: (event: KeyInputEvent) => void): void;
  close(): Promise<void>;
}

/**
 * Buttons that are keys of an input device (a USB "big button" or foot switch, a HID keyboard that sends
 * one key): the second button source beside GPIO. Opening never fails for a missing device: the device is
 * looked for until it is plugged in, and `device` events say when it comes and goes.
 */
export abstract class KeyInputPort {
  abstract open(options: KeyButtonOptions): Promise<KeyInput>;
  /** Press or release a key as the device would (sim only; hardware throws SimulationUnsupportedError). */
  abstract simulateKey(label: string, level: GpioLevel): void;
}
