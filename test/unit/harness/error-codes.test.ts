import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_TEXTS, FAULTS, IT_ERRORS, isErrorCode } from '../../../common/error-catalog.js';
import { ClassboxError } from '../../../common/errors.js';
import { packageRoot } from '../../../common/package-root.js';
import { FleetError } from '../../../device/ports/fleet.port.js';
import { GpioBusyError } from '../../../device/ports/gpio.port.js';
import { JanusError } from '../../../device/ports/janus.port.js';
import { KioskPageError } from '../../../device/ports/kiosk-page.port.js';
import { FleetApiError } from '../../../provisioning/fleet-errors.js';

/** Every .ts/.tsx file below `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

const root = packageRoot();
const CODE = /['"`](E-[A-Z0-9]+(?:-[A-Z0-9]+)*)['"`]/g;
const HAN = /\p{Script=Han}/u;

/** Every quoted `E-…` code in the product's source, with the files it stands in. */
function codesInSource(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const dir of ['common', 'device', 'provisioning', 'cli']) {
    for (const file of sources(join(root, dir))) {
      for (const [, code] of readFileSync(file, 'utf8').matchAll(CODE)) {
        found.set(code!, [...(found.get(code!) ?? []), relative(root, file)]);
      }
    }
  }
  return found;
}

/**
 * Codes already out there: in the fleet's stored heartbeats and update history, in IT's notes, in the
 * tools that read the status API. Renaming one breaks them, so each must stay in the catalogue as it is.
 */
const PUBLISHED = [
  'E-JANUS-UNREACHABLE',
  'E-JANUS-REFUSED',
  'E-ROOM-MISSING',
  'E-ROOM-PIN',
  'E-ROOM-FULL',
  'E-JOIN-TIMEOUT',
  'E-KIOSK-DOWN',
  'E-MEDIA-FAILED',
  'E-CONNECTION-LOST',
  'E-CAMERA-MISSING',
  'E-MICROPHONE-MISSING',
  'E-CAMERA-NO-PICTURE',
  'E-MICROPHONE-SILENT',
  'E-SPEAKER-MISSING',
  'E-SPEAKER-FAILED',
  'E-NETWORK-DOWN',
  'E-GPIO',
  'E-GPIO-CHIP',
  'E-GPIO-BUSY',
  'E-GPIO-ACCESS',
  'E-GPIO-BIAS',
  'E-BUTTON-STUCK',
  'E-BUTTON-USB-MISSING',
  'E-BUTTON-USB-ACCESS',
  'E-CAMERA-BRIDGE',
  'E-NOT-ENROLLED',
  'E-NOT-CONFIGURED',
  'E-DISK-FULL',
  'E-DISK-READONLY',
  'E-DISK',
  'E-INTERNAL',
  'E-NOT-SIM',
  'E-PROCESS',
  'E-CAMERA-STILL',
  'E-FLEET-UNREACHABLE',
  'E-FLEET-REFUSED',
  'E-FLEET-BAD-RESPONSE',
  'E-FLEET-STATE',
  'E-UPDATE-SPACE',
  'E-UPDATE-DOWNLOAD',
  'E-UPDATE-HASH',
  'E-UPDATE-SIZE',
  'E-UPDATE-SIGNATURE',
  'E-UPDATE-KEY-UNKNOWN',
  'E-UPDATE-MANIFEST',
  'E-UPDATE-ARCH',
  'E-UPDATE-NODE-ABI',
  'E-UPDATE-OS',
  'E-UPDATE-DOWNGRADE',
  'E-UPDATE-UNPACK',
  'E-UPDATE-SWITCH',
  'E-UPDATE-STATE',
  'E-UPDATE-RESTART',
  'E-UPDATE-CRASH-LOOP',
  'E-UPDATE-UNHEALTHY',
  'E-BAD-REQUEST',
  'E-NOT-FOUND',
  'E-CONFLICT',
  'E-TOO-LARGE',
  'E-UNSUPPORTED-MEDIA-TYPE',
  'E-RATE-LIMITED',
  'E-AUTH-MISSING',
  'E-AUTH-BAD',
  'E-AUTH-EXPIRED',
  'E-AUTH-LOCKED',
  'E-AUTH-WEAK',
  'E-FORBIDDEN',
  'E-SIGNATURE-MISSING',
  'E-SIGNATURE-BAD',
  'E-REPLAY',
  'E-CLOCK-SKEW',
  'E-TOKEN-UNKNOWN',
  'E-TOKEN-USED',
  'E-TOKEN-REVOKED',
  'E-TOKEN-EXPIRED',
  'E-TOKEN-CLOSED',
  'E-DEVICE-ENROLLED',
  'E-DEVICE-OTHER-CENTRE',
  'E-CENTRE-INVALID',
  'E-RELEASE-EXISTS',
  'E-RELEASE-KEYS-UNSET',
  'E-RELEASE-KEY-UNKNOWN',
  'E-RELEASE-SIGNATURE',
  'E-RELEASE-READY',
  'E-RELEASE-NOT-READY',
  'E-PAYLOAD-MISMATCH',
  'E-ROLLOUT-DOWNGRADE',
  'E-ROLLOUT-STATE',
  'E-DB-OPEN',
  'E-DB-MIGRATE',
  'E-ADMIN-API-REFUSED',
  'E-ADMIN-API-FAILED',
  'E-ADMIN-API-UNREACHABLE',
  'E-ADMIN-API-BAD-ANSWER',
  'E-FLASH-CSV',
  'E-FLASH-PARTITION-TABLE',
];

describe('error codes', () => {
  it('has every code the source uses in the catalogue, each with Chinese and English words', () => {
    const found = codesInSource();
    expect(found.size).toBeGreaterThan(50);
    const missing = [...found]
      .filter(([code]) => !isErrorCode(code))
      .map(([code, files]) => `${code} (${files[0]})`);
    expect(missing).toEqual([]);
    for (const [code, text] of Object.entries(ERROR_TEXTS)) {
      expect(text.zh, code).toMatch(HAN);
      expect(text.en, code).toMatch(/^[A-Z][ -~]+$/);
    }
  });

  it('gives every fault the screen shows what the tutor can do, in both languages', () => {
    for (const [code, text] of Object.entries(FAULTS)) {
      expect(text.actionZh, code).toMatch(HAN);
      expect(text.actionEn, code).toMatch(/^[A-Z][ -~]+$/);
    }
  });

  it('keeps a code either on the screen or for IT, never in both lists', () => {
    const both = Object.keys(FAULTS).filter((code) => Object.hasOwn(IT_ERRORS, code));
    expect(both).toEqual([]);
  });

  it('keeps every published code, spelt as it was', () => {
    expect(PUBLISHED.filter((code) => !isErrorCode(code))).toEqual([]);
  });

  it('has one error base: no other class in the product extends Error itself', () => {
    const offending = ['common', 'device', 'provisioning', 'cli']
      .flatMap((dir) => sources(join(root, dir)))
      // The dashboard runs in IT's browser and has no catalogue to draw on.
      .filter((file) => !file.includes('/provisioning/dashboard/'))
      .filter((file) => /class \w+(<[^{]*>)? extends Error\b/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file));
    expect(offending).toEqual(['common/errors.ts']);
  });

  it("gives an error its code, the catalogue's words, its class's name and its cause", () => {
    const cause = new Error('ECONNREFUSED');
    const error = new JanusError('E-ROOM-PIN', 'the room pin was refused', { cause });
    expect(error).toBeInstanceOf(ClassboxError);
    expect(error.code).toBe('E-ROOM-PIN');
    expect(error.text).toMatchObject({ zh: FAULTS['E-ROOM-PIN'].zh, en: FAULTS['E-ROOM-PIN'].en });
    expect(error.name).toBe('JanusError');
    expect(error.message).toBe('the room pin was refused');
    expect(error.cause).toBe(cause);
    expect(new GpioBusyError('GPIO 17 is held by a driver')).toMatchObject({
      name: 'GpioBusyError',
      code: 'E-GPIO-BUSY',
    });
    // The screen says the page is not ready when a request to it fails.
    expect(new KioskPageError('the kiosk page is not connected').code).toBe('E-KIOSK-DOWN');
    expect(new FleetApiError(409, 'E-TOKEN-USED', 'used').text.zh).toBe(IT_ERRORS['E-TOKEN-USED'].zh);
    expect(new FleetError('E-FLEET-STATE', "can't read enrolment.json").text.en).toBe(
      IT_ERRORS['E-FLEET-STATE'].en,
    );
  });

  it('refuses, at compile time, a code that is not in the catalogue', () => {
    // `npm run typecheck` fails if one of these compiles: the code's type is the catalogue's union.
    // @ts-expect-error 'E-NO-SUCH-CODE' is not in the catalogue
    const janus = new JanusError('E-NO-SUCH-CODE', 'x');
    // @ts-expect-error a Janus error can't carry a fleet code
    const fleet = new JanusError('E-FLEET-STATE', 'x');
    // @ts-expect-error 'E-TOKEN-TYPO' is not in the catalogue
    const api = new FleetApiError(400, 'E-TOKEN-TYPO', 'x');
    expect([janus, fleet, api].map((e) => isErrorCode(e.code))).toEqual([false, true, false]);
  });
});
