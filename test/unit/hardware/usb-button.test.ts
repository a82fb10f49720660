import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../device/adapters/clock.system.js';
import { SimGpio } from '../../../device/adapters/gpio.sim.js';
import { SimGpioBias } from '../../../device/adapters/gpio-bias.sim.js';
import { EvdevKeyInput } from '../../../device/adapters/key-input.evdev.js';
import { deviceConfigSchema, type DeviceConfigInput } from '../../../device/config/device-config.schema.js';
import {
  INITIAL_SESSION,
  transition,
  type SessionEvent,
  type SessionSnapshot,
} from '../../../device/domain/class-session.machine.js';
import {
  capabilityHasKey,
  encodeInputEvents,
  InputEventDecoder,
  keyCode,
} from '../../../device/domain/input-events.js';
import type { DeviceHealth } from '../../../device/ports/health.js';
import type { KeyInputEvent } from '../../../device/ports/key-input.port.js';
import { ButtonsService } from '../../../device/services/buttons.service.js';
import type { ClassSessionService } from '../../../device/services/class-session.service.js';
import { ConfigService } from '../../../device/services/config.service.js';
import type { HealthService } from '../../../device/services/health.service.js';
import { MetricsService } from '../../../device/services/metrics.service.js';
import type { MuteService } from '../../../device/services/mute.service.js';
import { strictFake } from '../../helpers/strict-fake.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/hardware/input-events');
const press64 = readFileSync(join(FIXTURES, 'enter-press-64bit.bin'));
const press32 = readFileSync(join(FIXTURES, 'enter-press-32bit.bin'));

/** A real keyboard's key capability bitmap on a 64-bit kernel (KEY_ESC … KEY_MICMUTE, no buttons). */
const KEYBOARD_KEYS = '1000000000007 ff9f207ac14057ff febeffdfffefffff fffffffffffffffe';
/** A tablet's: BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE, BTN_EXTRA only. */
const TABLET_KEYS = '1f0000 0 0 0 0';

describe('input_event records', () => {
  it('decodes the recorded Enter press in the 64-bit and the 32-bit layout alike, across split reads', () => {
    const decode = (bytes: Buffer, size: 16 | 24) => {
      const decoder = new InputEventDecoder(size);
      // Reads that end mid-record, as a stream may deliver them.
      return [bytes.subarray(0, 7), bytes.subarray(7, 50), bytes.subarray(50)].flatMap((c) =>
        decoder.push(c),
      );
    };
    const wide = decode(press64, 24);
    expect(wide).toEqual(decode(press32, 16));
    expect(wide).toHaveLength(12);
    const keys = wide.filter((e) => e.type === 1).map((e) => [e.code, e.value]);
    expect(keys).toEqual([
      [28, 1],
      [28, 2],
      [28, 2],
      [28, 2],
      [28, 0],
    ]);
    expect(wide[0]).toEqual({ sec: 1796112000, usec: 0, type: 4, code: 4, value: 0x70028 });
    expect(wide.at(-1)).toMatchObject({ sec: 1796112000, usec: 700_000, type: 0, code: 0 });
    expect(encodeInputEvents(wide, 24)).toEqual(press64);
  });

  it('reads the key capability bitmap word by word from the end, for 64- and 32-bit kernels', () => {
    expect(capabilityHasKey(KEYBOARD_KEYS, keyCode('KEY_ENTER')!, 64)).toBe(true);
    expect(capabilityHasKey(KEYBOARD_KEYS, keyCode('KEY_F13')!, 64)).toBe(true);
    expect(capabilityHasKey(KEYBOARD_KEYS, keyCode('BTN_LEFT')!, 64)).toBe(false);
    expect(capabilityHasKey(TABLET_KEYS, keyCode('BTN_LEFT')!, 64)).toBe(true);
    expect(capabilityHasKey(TABLET_KEYS, keyCode('KEY_ENTER')!, 64)).toBe(false);
    // The same tablet on a 32-bit kernel prints 32-bit words: BTN_LEFT (272) is in word 8.
    expect(capabilityHasKey('1f0000 0 0 0 0 0 0 0 0', 272, 32)).toBe(true);
    expect(capabilityHasKey('garbage', 28, 64)).toBe(false);
  });

  it('knows keys by name or number and refuses what is not a key', () => {
    expect(keyCode('KEY_ENTER')).toBe(28);
    expect(keyCode('key_space')).toBe(57);
    expect(keyCode('0x1c')).toBe(28);
    expect(keyCode(183)).toBe(183);
    expect(keyCode('KEY_NOPE')).toBeUndefined();
    expect(keyCode(0)).toBeUndefined();
    expect(keyCode(0x300)).toBeUndefined();
  });
});

const base: DeviceConfigInput = {
  device: { id: 'jx-test-01', displayName: '测试教学点' },
  janus: { url: 'ws://127.0.0.1:8188', room: 1234 },
};

describe('hardware.buttons in the device config', () => {
  it('defaults both buttons to GPIO and takes the shared USB contract as written', () => {
    expect(deviceConfigSchema.parse(base).hardware.buttons).toEqual({
      class: { source: 'gpio' },
      mute: { source: 'gpio' },
    });
    const usb = deviceConfigSchema.parse({
      ...base,
      hardware: {
        buttons: {
          class: { source: 'usb', device: 'QEMU USB Keyboard', key: 'KEY_ENTER' },
          mute: { source: 'gpio' },
        },
      },
    });
    expect(usb.hardware.buttons).toEqual({
      class: { source: 'usb', device: 'QEMU USB Keyboard', key: 'KEY_ENTER' },
      mute: { source: 'gpio' },
    });
    const plain = deviceConfigSchema.parse({ ...base, hardware: { buttons: { mute: { source: 'usb' } } } });
    expect(plain.hardware.buttons.mute).toEqual({ source: 'usb', device: undefined, key: 'KEY_ENTER' });
  });

  it('names the field of a bad key, a device on a GPIO button, and an unknown source', () => {
    const issues = (buttons: unknown) => {
      const result = deviceConfigSchema.safeParse({ ...base, hardware: { buttons } });
      return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ class: { source: 'usb', key: 'KEY_NOPE' } })).toEqual([
      expect.stringMatching(/^hardware\.buttons\.class\.key: expected a key name such as KEY_ENTER/),
    ]);
    expect(issues({ mute: { device: 'Foot' } })).toEqual([
      expect.stringMatching(/^hardware\.buttons\.mute\.device: only for "source": "usb"/),
    ]);
    expect(issues({ class: { source: 'bluetooth' } })).toEqual([
      expect.stringMatching(/^hardware\.buttons\.class\.source: /),
    ]);
    expect(issues({ class: { source: 'usb', colour: 'red' } })).toEqual([
      expect.stringMatching(/^hardware\.buttons\.class: .*colour/),
    ]);
  });
});

/** The real session machine without Janus: records what the buttons asked for. */
class MachineOnly {
  snapshot: SessionSnapshot = INITIAL_SESSION;
  readonly events: SessionEvent['type'][] = [];
  get state(): SessionSnapshot {
    return this.snapshot;
  }
  dispatch(event: SessionEvent): boolean {
    this.events.push(event.type);
    const { next, effects } = transition(this.snapshot, event);
    const changed = next !== this.snapshot;
    this.snapshot = next;
    return changed || effects.length > 0;
  }
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A sysfs-like tree and a /dev whose event nodes are FIFOs: the character-device stream the adapter reads. */
class InputTree {
  readonly root = mkdtempSync(join(tmpdir(), 'classbox-evdev-'));
  readonly sys = join(this.root, 'sys');
  readonly dev = join(this.root, 'dev');
  private writers = new Map<string, number>();

  constructor() {
    mkdirSync(join(this.sys, 'class/input'), { recursive: true });
    mkdirSync(join(this.dev, 'input'), { recursive: true });
  }

  plug(event: string, name: string, keys: string): void {
    const dir = join(this.sys, 'class/input', event, 'device');
    mkdirSync(join(dir, 'capabilities'), { recursive: true });
    writeFileSync(join(dir, 'name'), `${name}\n`);
    writeFileSync(join(dir, 'capabilities/key'), `${keys}\n`);
    const node = join(this.dev, 'input', event);
    rmSync(node, { force: true });
    execFileSync('mkfifo', ['-m', '0660', node]);
  }

  /** The device sends bytes (the reader must be open: a FIFO has no buffer without one). */
  send(event: string, bytes: Buffer): void {
    let fd = this.writers.get(event);
    if (fd === undefined) {
      fd = openSync(join(this.dev, 'input', event), constants.O_WRONLY | constants.O_NONBLOCK);
      this.writers.set(event, fd);
    }
    writeSync(fd, bytes);
  }

  /** The device goes: its sysfs entry and node vanish and the stream ends. */
  unplug(event: string): void {
    rmSync(join(this.sys, 'class/input', event), { recursive: true, force: true });
    rmSync(join(this.dev, 'input', event), { force: true });
    const fd = this.writers.get(event);
    this.writers.delete(event);
    if (fd !== undefined) closeSync(fd);
  }

  dispose(): void {
    for (const fd of this.writers.values()) closeSync(fd);
    rmSync(this.root, { recursive: true, force: true });
  }
}

describe('EvdevKeyInput on a sysfs-like tree and FIFO event nodes', () => {
  let tree: InputTree;
  const closers: (() => Promise<void>)[] = [];

  beforeEach(() => {
    tree = new InputTree();
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    tree.dispose();
  });

  function keys() {
    return new EvdevKeyInput(new SystemClock(), {
      sysRoot: tree.sys,
      devRoot: tree.dev,
      eventSize: 24,
      kernelWordBits: 64,
      scanMs: 20,
    });
  }

  it('picks the device by name and key, reads its presses, and says which devices it saw when none fits', async () => {
    tree.plug('event2', 'QEMU QEMU USB Tablet', TABLET_KEYS);
    tree.plug('event3', 'QEMU QEMU USB Keyboard', KEYBOARD_KEYS);
    const seen: KeyInputEvent[] = [];
    const input = await keys().open({ label: 'class button', device: 'USB Keyboard', key: 28 });
    closers.push(() => input.close());
    input.watch((e) => seen.push(e));
    expect(seen[0]).toEqual({
      type: 'device',
      state: { present: true, name: 'QEMU QEMU USB Keyboard', path: join(tree.dev, 'input/event3') },
    });
    tree.send('event3', press64);
    await until('the release', () => seen.some((e) => e.type === 'level' && e.level === 0));
    const levels = seen.filter((e) => e.type === 'level');
    expect(levels.map((e) => e.level)).toEqual([1, 0]);
    // Read in one go, the press keeps its length from the kernel's timestamps.
    expect(levels[1]!.at - levels[0]!.at).toBe(700);

    const none = await keys().open({ label: 'mute button', device: 'Foot Switch', key: 28 });
    closers.push(() => none.close());
    const state: KeyInputEvent[] = [];
    none.watch((e) => state.push(e));
    expect(state).toEqual([
      {
        type: 'device',
        state: {
          present: false,
          code: 'E-BUTTON-USB-MISSING',
          problem:
            'no input device named "Foot Switch" that sends KEY_ENTER is plugged in; found: QEMU QEMU USB Tablet, QEMU QEMU USB Keyboard',
        },
      },
    ]);
  });
});

describe('ButtonsService with a USB class button (evdev adapter, FIFO device)', () => {
  let tree: InputTree;
  let service: ButtonsService | undefined;

  beforeEach(() => {
    tree = new InputTree();
  });
  afterEach(async () => {
    await service?.onApplicationShutdown();
    tree.dispose();
  });

  async function box() {
    const clock = new SystemClock();
    const config = new ConfigService(
      deviceConfigSchema.parse({
        ...base,
        hardware: {
          mode: 'pi',
          buttons: { class: { source: 'usb', device: 'USB Keyboard', key: 'KEY_ENTER' } },
        },
      }),
    );
    const session = new MachineOnly();
    const health: DeviceHealth[] = [];
    service = new ButtonsService(
      new SimGpio(clock),
      clock,
      session as unknown as ClassSessionService,
      strictFake<MuteService>('mute', {}),
      new MetricsService(),
      config,
      strictFake<HealthService>('health', { set: (_key, value) => void health.push(value) }),
      new EvdevKeyInput(clock, {
        sysRoot: tree.sys,
        devRoot: tree.dev,
        eventSize: 24,
        kernelWordBits: 64,
        scanMs: 20,
      }),
      new SimGpioBias(),
    );
    await service.onModuleInit();
    return { session, health };
  }

  it('starts a class on a press, says when the button is unplugged, and works again once plugged back', async () => {
    tree.plug('event5', 'QEMU QEMU USB Keyboard', KEYBOARD_KEYS);
    const { session, health } = await box();
    expect(health.at(-1)).toEqual({ status: 'ok' });

    tree.send('event5', press64);
    await until('the class press', () => session.events.includes('classPressed'));
    expect(session.events).toEqual(['classPressed']);

    tree.unplug('event5');
    await until('the unplugged report', () => health.at(-1)?.code === 'E-BUTTON-USB-MISSING');
    expect(health.at(-1)).toMatchObject({
      status: 'missing',
      detail: expect.stringContaining('class button'),
    });

    tree.plug('event7', 'QEMU QEMU USB Keyboard', KEYBOARD_KEYS);
    await until('the button back', () => health.at(-1)?.status === 'ok');
    session.snapshot = INITIAL_SESSION;
    tree.send('event7', press64);
    await until('the second press', () => session.events.length === 2);
    expect(session.events).toEqual(['classPressed', 'classPressed']);
  });

  it('reports a key held since before the daemon opened it as stuck, never a press, until it is released', async () => {
    tree.plug('event5', 'QEMU QEMU USB Keyboard', KEYBOARD_KEYS);
    const { session, health } = await box();
    const records = new InputEventDecoder(24).push(press64);
    // Opened while held: the device only autorepeats (value 2), then lets go.
    const held = records.filter((e) => !(e.type === 1 && e.value === 1) && e.code !== 4);
    tree.send('event5', encodeInputEvents(held.slice(0, 6), 24));
    await until('the stuck report', () => health.at(-1)?.code === 'E-BUTTON-STUCK');
    tree.send('event5', encodeInputEvents(held.slice(6), 24));
    await until('the release', () => health.at(-1)?.status === 'ok');
    expect(session.events).toEqual([]);
  });
});
