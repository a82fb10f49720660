import { closeSync, constants, openSync, readSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { machine } from 'node:os';
import { join } from 'node:path';
import epoll, { type Epoll } from 'epoll';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import {
  capabilityHasKey,
  EV_KEY,
  EV_SYN,
  InputEventDecoder,
  inputEventLayout,
  KEY_DOWN,
  KEY_REPEAT,
  KEY_UP,
  keyName,
  type InputEvent,
  type InputEventLayout,
} from '../domain/input-events.js';
import { SimulationUnsupportedError } from '../ports/health.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import {
  KeyInputPort,
  type KeyButtonOptions,
  type KeyDeviceState,
  type KeyInput,
  type KeyInputEvent,
} from '../ports/key-input.port.js';

const SYN_DROPPED = 3;
const READ_RECORDS = 64;

export interface EvdevOptions {
  readonly sysRoot: string;
  readonly devRoot: string;
  /** Record size of this process's userland (24 on arm64/x86-64, 16 on armhf). */
  readonly eventSize: InputEventLayout;
  /** Word size of the kernel's capability bitmaps: a 64-bit kernel may run a 32-bit userland. */
  readonly kernelWordBits: 32 | 64;
  /** How often a missing device is looked for (hot-plug). */
  readonly scanMs: number;
}

export const DEFAULT_EVDEV_OPTIONS: EvdevOptions = {
  sysRoot: '/sys',
  devRoot: '/dev',
  eventSize: inputEventLayout(process.arch === 'arm64' || process.arch === 'x64'),
  kernelWordBits: /64/.test(machine()) ? 64 : 32,
  scanMs: 1000,
};

/**
 * USB buttons through the kernel's evdev interface: the device is found by name and key capability under
 * `/sys/class/input/event*`, its `/dev/input/eventN` is read non-blocking with epoll (the addon onoff
 * uses for GPIO edges, so no thread of libuv's pool blocks on a device that may never send anything),
 * and a device that goes away is looked for again every `scanMs` until it is back.
 */
export class EvdevKeyInput extends KeyInputPort {
  private readonly options: EvdevOptions;

  constructor(
    private readonly clock: ClockPort,
    options: Partial<EvdevOptions> = {},
  ) {
    super();
    this.options = { ...DEFAULT_EVDEV_OPTIONS, ...options };
  }

  async open(button: KeyButtonOptions): Promise<KeyInput> {
    const key = new EvdevKey(this.clock, this.options, button);
    await key.start();
    return key;
  }

  simulateKey(): void {
    throw new SimulationUnsupportedError('pressing a USB button');
  }
}

interface FoundDevice {
  readonly name: string;
  readonly path: string;
}

class EvdevKey implements KeyInput {
  private readonly log = createLogger(EvdevKeyInput.name);
  private readonly listeners: ((event: KeyInputEvent) => void)[] = [];
  private state: KeyDeviceState = {
    present: false,
    code: 'E-BUTTON-USB-MISSING',
    problem: 'not looked for yet',
  };
  private device: { fd: number; poller: Epoll; decoder: InputEventDecoder; found: FoundDevice } | undefined;
  private down = false;
  private dropping = false;
  private scanTimer: TimerHandle | undefined;
  private scanning: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly clock: ClockPort,
    private readonly options: EvdevOptions,
    private readonly button: KeyButtonOptions,
  ) {}

  async start(): Promise<void> {
    await this.scan();
    this.scanTimer = this.clock.setInterval(() => void this.scan(), this.options.scanMs);
  }

  watch(listener: (event: KeyInputEvent) => void): void {
    this.listeners.push(listener);
    listener({ type: 'device', state: this.state });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearInterval(this.scanTimer);
    await this.scanning;
    this.release(undefined);
  }

  /** Look for the device when it is not open; a scan already under way is not doubled. */
  private scan(): Promise<void> {
    if (this.device || this.closed) return Promise.resolve();
    this.scanning ??= this.find()
      .then((found) => {
        if (this.closed || this.device) return;
        if ('problem' in found) this.setState(found);
        else this.openDevice(found);
      })
      .catch((error: unknown) =>
        this.setState({ present: false, code: 'E-BUTTON-USB-MISSING', problem: reason(error) }),
      )
      .finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  private async find(): Promise<FoundDevice | Extract<KeyDeviceState, { present: false }>> {
    const dir = join(this.options.sysRoot, 'class', 'input');
    const entries = await readdir(dir).catch(() => [] as string[]);
    const seen: string[] = [];
    const wanted = this.button.device?.toLowerCase();
    for (const event of entries.filter((e) => /^event\d+$/.test(e)).sort(byNumber)) {
      const read = (file: string) =>
        readFile(join(dir, event, 'device', file), 'utf8').then(
          (t) => t.trim(),
          () => undefined,
        );
      const [name, keys] = await Promise.all([read('name'), read('capabilities/key')]);
      if (name === undefined || keys === undefined) continue;
      seen.push(name);
      if (wanted !== undefined && !name.toLowerCase().includes(wanted)) continue;
      if (!capabilityHasKey(keys, this.button.key, this.options.kernelWordBits)) continue;
      return { name, path: join(this.options.devRoot, 'input', event) };
    }
    const what = `input device${this.button.device ? ` named "${this.button.device}"` : ''} that sends ${keyName(this.button.key)}`;
    const found = seen.length > 0 ? `found: ${[...new Set(seen)].join(', ')}` : 'no input devices found';
    return { present: false, code: 'E-BUTTON-USB-MISSING', problem: `no ${what} is plugged in; ${found}` };
  }

  private openDevice(found: FoundDevice): void {
    let fd: number;
    try {
      fd = openSync(found.path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') {
        this.setState({
          present: false,
          code: 'E-BUTTON-USB-ACCESS',
          problem: `${found.name} (${found.path}) is not readable: the daemon's user must be in the input group`,
        });
      } else {
        // ENOENT: the kernel listed it but udev has not made the node yet; the next scan tries again.
        this.setState({
          present: false,
          code: 'E-BUTTON-USB-MISSING',
          problem: `${found.name}: can't open ${found.path}: ${reason(error)}`,
        });
      }
      return;
    }
    const poller = new epoll.Epoll((error) => {
      if (error) this.release(`can't poll ${found.path}: ${reason(error)}`);
      else this.readAvailable();
    });
    this.device = { fd, poller, decoder: new InputEventDecoder(this.options.eventSize), found };
    this.down = false;
    this.dropping = false;
    poller.add(fd, epoll.Epoll.EPOLLIN);
    this.log.info(
      `Opened USB button label="${this.button.label}" device="${found.name}" path=${found.path} key=${keyName(this.button.key)}`,
    );
    this.setState({ present: true, name: found.name, path: found.path });
  }

  private readAvailable(): void {
    const device = this.device;
    if (!device) return;
    const buffer = Buffer.alloc(this.options.eventSize * READ_RECORDS);
    const events: InputEvent[] = [];
    for (;;) {
      let n: number;
      try {
        n = readSync(device.fd, buffer, 0, buffer.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
        // ENODEV: the device was unplugged.
        this.handle(events);
        this.release(
          `${device.found.name} went away (${(error as NodeJS.ErrnoException).code ?? reason(error)})`,
        );
        return;
      }
      if (n === 0) {
        this.handle(events);
        this.release(`${device.found.name} went away (end of stream)`);
        return;
      }
      events.push(...device.decoder.push(buffer.subarray(0, n)));
    }
    this.handle(events);
  }

  /**
   * Key events of our key, timed on the daemon's clock: a batch read late keeps its events' spacing
   * (from their kernel timestamps), so a quick tap read in one go is still a press, not a glitch.
   */
  private handle(events: readonly InputEvent[]): void {
    if (events.length === 0) return;
    const now = this.clock.now();
    const last = events[events.length - 1]!;
    const lastUs = last.sec * 1e6 + last.usec;
    for (const event of events) {
      if (event.type === EV_SYN) {
        // SYN_DROPPED: the kernel's buffer overflowed; skip until the next report (evdev's rule).
        if (event.code === SYN_DROPPED) this.dropping = true;
        else this.dropping = false;
        continue;
      }
      if (this.dropping || event.type !== EV_KEY || event.code !== this.button.key) continue;
      const at = now - Math.max(0, Math.round((lastUs - (event.sec * 1e6 + event.usec)) / 1000));
      if (event.value === KEY_DOWN && !this.down) {
        this.down = true;
        this.emit({ type: 'level', level: 1, at });
      } else if (event.value === KEY_UP && this.down) {
        this.down = false;
        this.emit({ type: 'level', level: 0, at });
      } else if (event.value === KEY_REPEAT && !this.down) {
        this.down = true;
        this.emit({ type: 'heldBeforeOpen', at });
      }
    }
  }

  /** Close the device; with a reason it went away (hot-plug), without one we are closing. */
  private release(problem: string | undefined): void {
    const device = this.device;
    this.device = undefined;
    if (device) {
      try {
        device.poller.remove(device.fd);
      } catch {
        // Already gone with the device.
      }
      device.poller.close();
      try {
        closeSync(device.fd);
      } catch {
        // Already closed.
      }
    }
    if (this.down) {
      this.down = false;
      if (problem !== undefined) this.emit({ type: 'level', level: 0, at: this.clock.now() });
    }
    if (problem !== undefined) {
      this.log.warn(`Lost USB button label="${this.button.label}": ${problem}`);
      this.setState({ present: false, code: 'E-BUTTON-USB-MISSING', problem });
    }
  }

  private setState(state: KeyDeviceState): void {
    const same =
      state.present === this.state.present &&
      (state.present
        ? this.state.present && state.path === this.state.path
        : !this.state.present && state.problem === this.state.problem);
    if (same) return;
    this.state = state;
    this.emit({ type: 'device', state });
  }

  private emit(event: KeyInputEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log.error(`Can't deliver USB button event label="${this.button.label}": ${reason(error)}`);
      }
    }
  }
}

function byNumber(a: string, b: string): number {
  return Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, ''));
}
