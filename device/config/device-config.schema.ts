import { z } from 'zod';
import {
  iceServer,
  insecureFleetUrlMessage,
  isInsecureFleetUrl,
  janusUrl,
} from '../../common/fleet-protocol.js';
import { keyCode, KEY_CODES } from '../domain/input-events.js';
import { MEDIA_PROFILE_NAMES } from '../domain/media-profile.js';
import { PICTURE_LAYERS } from '../domain/receive-layers.js';

/** A BCM GPIO number on the 40-pin header (GPIO 2–27). */
const bcmPin = z
  .int()
  .min(2, 'expected a BCM GPIO number from 2 to 27')
  .max(27, 'expected a BCM GPIO number from 2 to 27');

/**
 * Where a button's presses come from: a GPIO pin of the header (`hardware.gpio`), or one key of a USB input
 * device (a "big button" or foot switch that acts as a keyboard), chosen by a fragment of its name.
 */
const buttonSource = z
  .strictObject({
    source: z.enum(['gpio', 'usb']).default('gpio'),
    /** usb: a fragment of the device's name (`/sys/class/input/eventN/device/name`); absent = the first that can send `key`. */
    device: z.string().trim().min(1).max(128).optional(),
    /** usb: a Linux key name (`KEY_ENTER`) or code; default KEY_ENTER. */
    key: z
      .union([z.string().trim().min(1), z.int()])
      .refine((k) => keyCode(k) !== undefined, {
        error: `expected a key name such as KEY_ENTER, KEY_SPACE or KEY_F13 (${Object.keys(KEY_CODES).length} known) or a key code from 1 to 767`,
      })
      .optional(),
  })
  .superRefine((button, ctx) => {
    if (button.source !== 'gpio') return;
    for (const key of ['device', 'key'] as const) {
      if (button[key] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'only for "source": "usb" (a GPIO button is hardware.gpio\'s pin)',
        });
    }
  })
  .transform((button) =>
    button.source === 'usb'
      ? { source: 'usb' as const, device: button.device, key: button.key ?? 'KEY_ENTER' }
      : { source: 'gpio' as const },
  );

/** `hardware`: the mode, the pins, each button's source, camera and audio. */
export const hardwareConfigSchema = z.strictObject({
  mode: z.enum(['pi', 'sim']).default('pi'),
  gpio: z
    .strictObject({
      classButton: bcmPin.default(17),
      muteButton: bcmPin.default(27),
      statusLed: bcmPin.default(22),
      muteLed: bcmPin.default(23),
      /** Buttons pull the line to ground when pressed (pull-up set in config.txt). */
      activeLow: z.boolean().default(true),
      debounceMs: z.int().min(0).max(500).default(30),
    })
    .prefault({}),
  /** Each button's source; GPIO (the pins above) unless set to a USB key. */
  buttons: z.strictObject({ class: buttonSource.prefault({}), mute: buttonSource.prefault({}) }).prefault({}),
  camera: z
    .strictObject({
      /** `v4l2`: any V4L2 capture device, UVC or not (a capture card, a virtual camera). */
      kind: z.enum(['uvc', 'csi', 'v4l2']).default('uvc'),
      /** Part of the camera's name, e.g. "C920"; the first capture device when absent. */
      name: z.string().min(1).optional(),
      width: z.int().min(160).max(1920).default(1280),
      height: z.int().min(120).max(1080).default(720),
      fps: z.int().min(5).max(60).default(30),
      /** CSI only: bridge the camera into this v4l2loopback device (rpicam-vid → ffmpeg) so Chromium can open it. */
      csiLoopback: z
        .string()
        .regex(/^\/dev\/video\d{1,3}$/, 'expected a v4l2loopback device such as /dev/video10')
        .optional(),
    })
    .prefault({}),
  microphone: z.strictObject({ name: z.string().min(1).optional() }).prefault({}),
  speaker: z.strictObject({ name: z.string().min(1).optional() }).prefault({}),
});

export const deviceConfigSchema = z
  .strictObject({
    device: z.strictObject({
      id: z
        .string()
        .regex(
          /^[a-z0-9][a-z0-9-]{1,62}$/,
          'expected lower-case letters, digits and dashes, e.g. "jx-ruijin-01"',
        ),
      displayName: z.string().trim().min(1, 'expected the name shown in the room, e.g. "瑞金教学点"').max(64),
      centreName: z.string().trim().min(1).max(64).optional(),
    }),
    janus: z
      .strictObject({
        url: janusUrl.optional(),
        /** Other media nodes with the class's room, tried in order when `url` is gone (issue 19; set by the fleet). */
        fallbackUrls: z.array(janusUrl).max(5).default([]),
        room: z.int().positive().optional(),
        pin: z.string().min(1).optional(),
        token: z.string().min(1).optional(),
        apiSecret: z.string().min(1).optional(),
        iceServers: z.array(iceServer).default([]),
        /** Upper bound of the box's outgoing video, in kbit/s, sent to Janus as the publisher bitrate. */
        bitrateKbps: z.int().min(64).max(8000).default(1024),
        connectTimeoutMs: z.int().min(500).max(60_000).default(5000),
      })
      .prefault({}),
    fleet: z
      .strictObject({
        url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
        enrolmentFile: z.string().min(1).default('/boot/firmware/classbox-enrol.json'),
        heartbeatSeconds: z.int().min(5).max(3600).default(30),
        /** Development only: allow an http:// fleet URL to a non-loopback host (docs/security.md). */
        allowInsecureHttp: z.boolean().default(false),
      })
      .superRefine((fleet, ctx) => {
        if (!fleet.allowInsecureHttp && isInsecureFleetUrl(fleet.url)) {
          ctx.addIssue({
            code: 'custom',
            path: ['url'],
            message: insecureFleetUrlMessage('fleet.allowInsecureHttp: true'),
          });
        }
      })
      .optional(),
    hardware: hardwareConfigSchema.prefault({}),
    session: z
      .strictObject({
        /** How long the class button must be held to end a live class. */
        endHoldMs: z.int().min(500).max(10_000).default(2000),
        /** How long the mute button must be held while idle to start the self-test. */
        selfTestHoldMs: z.int().min(3000).max(20_000).default(5000),
        joinTimeoutMs: z.int().min(1000).max(60_000).default(15_000),
      })
      .prefault({}),
    kiosk: z
      .strictObject({
        /** `chromium` drives a real browser; `none` serves the page for any browser to open (development). */
        browser: z.enum(['chromium', 'none']).default('chromium'),
        headless: z.boolean().default(false),
        /** Full-screen kiosk window (the box); false gives an ordinary window (the demo on a desktop). */
        fullscreen: z.boolean().default(true),
        fakeMedia: z.boolean().default(false),
        /** With fakeMedia: a .y4m or .mjpeg clip the fake camera plays (a textured, moving picture costs what a real one does to encode). */
        fakeVideoFile: z.string().min(1).optional(),
        chromiumPath: z.string().min(1).default('/usr/bin/chromium'),
        width: z.int().min(320).max(7680).default(1920),
        height: z.int().min(240).max(4320).default(1080),
        language: z.enum(['zh-CN', 'en']).default('zh-CN'),
        /** A page silent for this long is hung: the browser is relaunched. */
        heartbeatTimeoutMs: z.int().min(2000).max(120_000).default(15_000),
      })
      .prefault({}),
    media: z
      .strictObject({
        /** What the box sends (docs/media.md); absent = chosen from the board model. */
        profile: z.enum(MEDIA_PROFILE_NAMES).optional(),
        /**
         * Other centres' videos decoded at once besides the teacher's (the rest are names with sound);
         * absent = the profile's (pi4: 2, pi5: 4, pc: 6).
         */
        maxThumbnails: z.int().min(0).max(16).optional(),
        /** Simulcast layers sent (1–3); absent = the profile's (pi4: 1, pi5 and pc: 3). */
        layers: z.int().min(1).max(3).optional(),
        /**
         * The largest of the teacher's simulcast layers asked for (`low`, `mid`, `high`: Janus's substreams
         * 0–2); absent = the profile's (pi4: mid, pi5 and pc: high).
         */
        maxTeacherLayer: z.enum(PICTURE_LAYERS).optional(),
      })
      .prefault({}),
    network: z
      .strictObject({
        /** Fall back to sound only when the uplink cannot carry video. */
        audioOnlyFallback: z.boolean().default(true),
        minVideoKbps: z.int().min(16).max(4000).default(120),
        /**
         * Wait between tries at video while the uplink can't carry it. A try starts with a small picture
         * (docs/media.md), so it is cheap and made often: video is back within seconds of the link.
         */
        probeSeconds: z.int().min(2).max(600).default(8),
      })
      .prefault({}),
    control: z
      .strictObject({
        port: z
          .int()
          .min(1, 'expected a TCP port from 1 to 65535')
          .max(65535, 'expected a TCP port from 1 to 65535')
          .default(8470),
      })
      .prefault({}),
    log: z
      .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info') })
      .prefault({}),
    stateDir: z.string().min(1).default('/var/lib/classbox'),
    /** Lesson catch-up (issue 21): the stretches of a class the box missed, fetched after it, replayed. */
    catchup: z
      .strictObject({
        /** Fetch missed stretches after a class (only with a fleet server, which cuts them). */
        enabled: z.boolean().default(true),
        /** The fetch's average rate: a 1 Mbit/s rural link keeps half for everything else. */
        maxKbps: z.int().min(16).max(100_000).default(512),
        /** The most the cache of fetched videos holds; the oldest class's videos go first. */
        cacheMB: z.int().min(1).max(100_000).default(300),
        /** Free space kept on the card beyond the videos (the box's state and updates need it). */
        freeMarginMB: z.int().min(0).max(10_000).default(200),
      })
      .prefault({}),
    update: z
      .strictObject({
        /** Holds `releases/<version>/`, the `releases/current` link and `downloads/`. */
        root: z.string().min(1).default('/opt/classbox'),
        /** Public keys (`*.pem`) a release must be signed with; they ship with the box image. */
        trustedKeysDir: z.string().min(1).default('/etc/classbox/release-keys'),
        /** A new version not healthy this long after the switch is rolled back. */
        healthTimeoutSec: z.int().min(10).max(3600).default(300),
        /** Starts of a new version on trial before it is rolled back. */
        maxTrialStarts: z.int().min(1).max(20).default(3),
        /** Free space kept beyond what a release needs. */
        freeMarginMB: z.int().min(0).max(10_000).default(200),
        /** No update starts this long before a timetabled class. */
        classGuardMinutes: z.int().min(0).max(240).default(20),
        /** The systemd unit restarted to run the new version. */
        unit: z
          .string()
          .regex(/^[A-Za-z0-9@._-]+\.service$/, 'expected a unit name such as classbox.service')
          .default('classbox.service'),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    if (config.fleet) return;
    if (config.janus.url === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['janus', 'url'],
        message: 'required (a ws:// or wss:// URL) unless fleet.url names a fleet server to fetch it from',
      });
    }
    if (config.janus.room === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['janus', 'room'],
        message: 'required (the videoroom number) unless fleet.url names a fleet server to fetch it from',
      });
    }
  });

export type DeviceConfig = z.output<typeof deviceConfigSchema>;
export type DeviceConfigInput = z.input<typeof deviceConfigSchema>;

/** Config values that never appear in logs, `--print-config` or the status API. */
export const SECRET_PATHS = [
  ['janus', 'pin'],
  ['janus', 'token'],
  ['janus', 'apiSecret'],
] as const;

/** The secret values of a config (for taking them out of log lines IT reads remotely). */
export function secretValues(config: DeviceConfig): string[] {
  const values: string[] = [];
  for (const [section, key] of SECRET_PATHS) {
    const value = (config[section] as Record<string, unknown>)[key];
    if (typeof value === 'string') values.push(value);
  }
  for (const s of config.janus.iceServers) if (s.credential !== undefined) values.push(s.credential);
  return values;
}

export function redactConfig(config: DeviceConfig): DeviceConfig {
  const copy = structuredClone(config);
  for (const [section, key] of SECRET_PATHS) {
    const holder = copy[section] as Record<string, unknown>;
    if (holder[key] !== undefined) holder[key] = '<redacted>';
  }
  copy.janus.iceServers = copy.janus.iceServers.map((s) =>
    s.credential === undefined ? s : { ...s, credential: '<redacted>' },
  );
  return copy;
}
