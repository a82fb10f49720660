/**
 * What the box sends, by board (issue 16, docs/media.md). Chromium encodes in software on a Raspberry Pi
 * (the Pi 5 has no H.264 encoder; Chromium does not use the Pi 4's for WebRTC), so the picture is sized
 * to what the board's CPU can encode next to decoding the class and compositing the screen. Pure: no I/O.
 */

import type { PictureLayer } from './receive-layers.js';

export const MEDIA_PROFILE_NAMES = ['pi4', 'pi5', 'pc'] as const;
export type MediaProfileName = (typeof MEDIA_PROFILE_NAMES)[number];

/** Video codecs as Chromium names them in `RTCRtpCodec.mimeType` after `video/`. */
export type VideoCodec = 'VP8';

export interface MediaProfile {
  readonly name: MediaProfileName;
  /** The largest picture sent; the camera is opened at this size so nothing is scaled twice. */
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Upper bound of the video encoder, kbit/s (the room's and the config's caps still apply). */
  readonly videoKbps: number;
  /** Opus target, kbit/s: speech with in-band FEC stays clear at 32 kbit/s and fits a 300 kbit/s uplink. */
  readonly audioKbps: number;
  /** Chosen, not left to the room's default: see docs/media.md. */
  readonly videoCodec: VideoCodec;
  /**
   * Simulcast layers sent (1–3): the full picture, then each next one half as wide at a lower frame rate,
   * so a box that shows this one as a thumbnail decodes a small picture (docs/media.md, "Layers").
   */
  readonly layers: 1 | 2 | 3;
  /** Other centres' videos decoded at once besides the teacher's; the rest are shown as names with sound. */
  readonly maxThumbnails: number;
  /**
   * The largest of the teacher's simulcast layers the box asks for: `mid` is a quarter of the pixels of
   * `high` to decode (360p of a 720p teacher), which is what a Pi 4 can decode at a steady frame rate
   * beside its own encoder (docs/media.md, "Receiving").
   */
  readonly maxTeacherLayer: PictureLayer;
}

/**
 * A Pi 4 core is roughly a fifth of one core of the machine the issue measured on; at 0.3 of that core a
 * 720p encode fell to 11 fps. 640×360 at 24 fps is what Jitsi and vdo.ninja advise for a Pi.
 */
export const MEDIA_PROFILES: Readonly<Record<MediaProfileName, MediaProfile>> = {
  pi4: {
    name: 'pi4',
    width: 640,
    height: 360,
    fps: 24,
    videoKbps: 600,
    audioKbps: 32,
    videoCodec: 'VP8',
    // One layer: a second one cost the box most of its frame rate under a Pi 4's CPU budget (docs/media.md).
    layers: 1,
    // One other centre's picture: a centre that is a Pi 4 sends one layer, which Janus relays whole, and
    // each such thumbnail cost the box a third of its frame rate under a Pi 4's CPU budget (docs/media.md).
    maxThumbnails: 1,
    maxTeacherLayer: 'mid',
  },
  pi5: {
    name: 'pi5',
    width: 960,
    height: 540,
    fps: 30,
    videoKbps: 1000,
    audioKbps: 32,
    videoCodec: 'VP8',
    layers: 3,
    maxThumbnails: 4,
    maxTeacherLayer: 'high',
  },
  pc: {
    name: 'pc',
    width: 1280,
    height: 720,
    fps: 30,
    videoKbps: 1024,
    audioKbps: 32,
    videoCodec: 'VP8',
    layers: 3,
    maxThumbnails: 6,
    maxTeacherLayer: 'high',
  },
};

/**
 * The profile for a board model as the firmware names it (`/proc/device-tree/model`). Any Raspberry Pi
 * older or smaller than a Pi 5 gets the Pi 4's (a Pi 400 and a CM4 are Pi 4s; a Pi 3 is slower still);
 * no device tree means a PC.
 */
export function profileForBoard(model: string | undefined): MediaProfileName {
  if (model === undefined) return 'pc';
  if (/Raspberry Pi (5|500)\b|Compute Module 5/.test(model)) return 'pi5';
  if (/Raspberry Pi|Compute Module/.test(model)) return 'pi4';
  return 'pc';
}

export interface CameraSettings {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

/** What the page is told to capture and send: the camera's settings fitted inside the profile. */
export interface EffectiveMedia {
  readonly profile: MediaProfile;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly videoKbps: number;
  readonly audioKbps: number;
}

/**
 * Fit the configured camera size inside the profile's, keeping the camera's shape (a 4:3 camera on a
 * Pi 4 sends 480×360, not a stretched 640×360), on even sizes as encoders want them.
 */
export function effectiveMedia(
  profile: MediaProfile,
  camera: CameraSettings,
  bitrateKbps: number,
): EffectiveMedia {
  const scale = Math.min(1, profile.width / camera.width, profile.height / camera.height);
  const even = (n: number): number => Math.max(2, Math.floor(n / 2) * 2);
  return {
    profile,
    width: even(camera.width * scale),
    height: even(camera.height * scale),
    fps: Math.min(camera.fps, profile.fps),
    videoKbps: Math.min(bitrateKbps, profile.videoKbps),
    audioKbps: profile.audioKbps,
  };
}
