import type { DeviceHealth } from './health.js';
import type { AudioDeviceInfo } from './microphone.port.js';

/** The box's speaker: the TV or projector over HDMI, or a USB speaker, as configured. */
export abstract class SpeakerPort {
  abstract check(): Promise<DeviceHealth>;
  abstract current(): AudioDeviceInfo | undefined;
}
