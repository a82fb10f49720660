/**
 * Linux input events (`/dev/input/event*`) as pure logic: decoding `struct input_event` records, the key
 * names a config may use, and the key capability bitmap from sysfs. The kernel's definitions:
 * include/uapi/linux/input.h (the record), include/uapi/linux/input-event-codes.h (the codes),
 * drivers/input/input.c `input_print_bitmap` (the capability text).
 */

export const EV_SYN = 0;
export const EV_KEY = 1;
/** The highest key code (`KEY_MAX`). */
export const KEY_MAX = 0x2ff;

/** `value` of an EV_KEY event. */
export const KEY_UP = 0;
export const KEY_DOWN = 1;
export const KEY_REPEAT = 2;

export interface InputEvent {
  readonly sec: number;
  readonly usec: number;
  readonly type: number;
  readonly code: number;
  readonly value: number;
}

/**
 * `struct input_event` is {time: two `__kernel_ulong_t` (sec, usec), u16 type, u16 code, s32 value}: 24 bytes
 * where userland is 64-bit (arm64, x86-64) and 16 where it is 32-bit (armhf; even with a 64-bit time_t the
 * kernel ABI keeps 32-bit sec/usec there). Little-endian on every board we run on.
 */
export type InputEventLayout = 16 | 24;

export function inputEventLayout(userland64: boolean): InputEventLayout {
  return userland64 ? 24 : 16;
}

/** Turns a byte stream into whole records; a partial record waits for the rest of its bytes. */
export class InputEventDecoder {
  private rest: Buffer = Buffer.alloc(0);

  constructor(private readonly size: InputEventLayout) {}

  push(chunk: Buffer): InputEvent[] {
    const data = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    const events: InputEvent[] = [];
    let at = 0;
    for (; at + this.size <= data.length; at += this.size) events.push(this.decode(data, at));
    this.rest = Buffer.from(data.subarray(at));
    return events;
  }

  private decode(data: Buffer, at: number): InputEvent {
    if (this.size === 24) {
      return {
        sec: Number(data.readBigUInt64LE(at)),
        usec: Number(data.readBigUInt64LE(at + 8)),
        type: data.readUInt16LE(at + 16),
        code: data.readUInt16LE(at + 18),
        value: data.readInt32LE(at + 20),
      };
    }
    return {
      sec: data.readUInt32LE(at),
      usec: data.readUInt32LE(at + 4),
      type: data.readUInt16LE(at + 8),
      code: data.readUInt16LE(at + 10),
      value: data.readInt32LE(at + 12),
    };
  }
}

/** Encode records (tests, fixtures): the inverse of the decoder. */
export function encodeInputEvents(events: readonly InputEvent[], size: InputEventLayout): Buffer {
  const out = Buffer.alloc(events.length * size);
  events.forEach((e, i) => {
    const at = i * size;
    if (size === 24) {
      out.writeBigUInt64LE(BigInt(e.sec), at);
      out.writeBigUInt64LE(BigInt(e.usec), at + 8);
      out.writeUInt16LE(e.type, at + 16);
      out.writeUInt16LE(e.code, at + 18);
      out.writeInt32LE(e.value, at + 20);
    } else {
      out.writeUInt32LE(e.sec, at);
      out.writeUInt32LE(e.usec, at + 4);
      out.writeUInt16LE(e.type, at + 8);
      out.writeUInt16LE(e.code, at + 10);
      out.writeInt32LE(e.value, at + 12);
    }
  });
  return out;
}

/** The keys a USB big button or foot switch commonly sends (input-event-codes.h). */
export const KEY_CODES: Readonly<Record<string, number>> = {
  KEY_ESC: 1,
  ...Object.fromEntries(
    ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'].map((d, i) => [`KEY_${d}`, 2 + i]),
  ),
  KEY_MINUS: 12,
  KEY_EQUAL: 13,
  KEY_BACKSPACE: 14,
  KEY_TAB: 15,
  ...Object.fromEntries([...'QWERTYUIOP'].map((c, i) => [`KEY_${c}`, 16 + i])),
  KEY_ENTER: 28,
  KEY_LEFTCTRL: 29,
  ...Object.fromEntries([...'ASDFGHJKL'].map((c, i) => [`KEY_${c}`, 30 + i])),
  KEY_LEFTSHIFT: 42,
  ...Object.fromEntries([...'ZXCVBNM'].map((c, i) => [`KEY_${c}`, 44 + i])),
  KEY_RIGHTSHIFT: 54,
  KEY_LEFTALT: 56,
  KEY_SPACE: 57,
  KEY_CAPSLOCK: 58,
  ...Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => [`KEY_F${n}`, 58 + n])),
  KEY_F11: 87,
  KEY_F12: 88,
  KEY_KPENTER: 96,
  KEY_RIGHTCTRL: 97,
  KEY_RIGHTALT: 100,
  KEY_HOME: 102,
  KEY_UP: 103,
  KEY_PAGEUP: 104,
  KEY_LEFT: 105,
  KEY_RIGHT: 106,
  KEY_END: 107,
  KEY_DOWN: 108,
  KEY_PAGEDOWN: 109,
  KEY_INSERT: 110,
  KEY_DELETE: 111,
  KEY_MUTE: 113,
  KEY_VOLUMEDOWN: 114,
  KEY_VOLUMEUP: 115,
  KEY_PAUSE: 119,
  KEY_NEXTSONG: 163,
  KEY_PLAYPAUSE: 164,
  KEY_PREVIOUSSONG: 165,
  KEY_STOPCD: 166,
  ...Object.fromEntries([13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24].map((n) => [`KEY_F${n}`, 170 + n])),
  KEY_MICMUTE: 248,
  ...Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => [`BTN_${n}`, 0x100 + n])),
  BTN_LEFT: 0x110,
  BTN_RIGHT: 0x111,
  BTN_MIDDLE: 0x112,
  BTN_TRIGGER: 0x120,
  BTN_SOUTH: 0x130,
};

/** A key by name (`KEY_ENTER`) or number (`28`, `0x1c`); undefined when it names no key. */
export function keyCode(key: string | number): number | undefined {
  if (typeof key === 'number') return Number.isInteger(key) && key > 0 && key <= KEY_MAX ? key : undefined;
  if (/^(0x[0-9a-f]+|\d+)$/i.test(key)) return keyCode(Number(key));
  return KEY_CODES[key.toUpperCase()];
}

/** `KEY_ENTER` for 28, or the number when it has no name in the table. */
export function keyName(code: number): string {
  return Object.entries(KEY_CODES).find(([, c]) => c === code)?.[0] ?? String(code);
}

/**
 * Whether `/sys/class/input/eventN/device/capabilities/key` includes `code`. The kernel prints the bitmap
 * as hex words of its `unsigned long` (64 bits on a 64-bit kernel, 32 on a 32-bit one), highest word
 * first, leading zero words left out; so bit `code` is in the word `floor(code / bits)` counted from the end.
 */
export function capabilityHasKey(bitmap: string, code: number, wordBits: 32 | 64): boolean {
  const words = bitmap.trim().split(/\s+/).filter(Boolean).reverse();
  if (words.some((w) => !/^[0-9a-f]+$/i.test(w))) return false;
  const word = words[Math.floor(code / wordBits)];
  if (word === undefined) return false;
  return ((BigInt(`0x${word}`) >> BigInt(code % wordBits)) & 1n) === 1n;
}

/** Whether the device can send any key at all (a keyboard, a button), from the same bitmap. */
export function capabilityHasAnyKey(bitmap: string): boolean {
  return bitmap
    .trim()
    .split(/\s+/)
    .some((w) => /^[0-9a-f]+$/i.test(w) && BigInt(`0x${w}`) !== 0n);
}
