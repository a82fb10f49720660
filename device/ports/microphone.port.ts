import { SimulationUnsupportedError, type DeviceHealth } from './health.js';

export interface AudioDeviceInfo {
  readonly name: string;
  /** ALSA card/device, e.g. "hw:1,0". */
  readonly alsa?: string;
  /** What Chromium's MediaDeviceInfo.label contains for this device. */
  readonly browserLabel: string;
}

/** The box's microphone and speaker. */
export abstract class MicrophonePort {
  abstract check(): Promise<DeviceHealth>;
  abstract current(): AudioDeviceInfo | undefined;
  /** Plug or unplug the microphone (sim only; real devices throw SimulationUnsupportedError). */
  simulatePlugged(_plugged: boolean): void {
    throw new SimulationUnsupportedError('plugging the microphone');
  }
}
