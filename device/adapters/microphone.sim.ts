import { Injectable } from '@nestjs/common';
import type { DeviceHealth } from '../ports/health.js';
import { MicrophonePort, type AudioDeviceInfo } from '../ports/microphone.port.js';

const FAKE_MICROPHONE: AudioDeviceInfo = {
  name: 'Simulated microphone',
  browserLabel: 'Fake Default Audio Input',
};

@Injectable()
export class SimMicrophone extends MicrophonePort {
  private plugged = true;

  async check(): Promise<DeviceHealth> {
    return this.plugged
      ? { status: 'ok', detail: FAKE_MICROPHONE.name }
      : { status: 'missing', code: 'E-MICROPHONE-MISSING', detail: 'the simulated microphone is unplugged' };
  }
  current(): AudioDeviceInfo | undefined {
    return this.plugged ? FAKE_MICROPHONE : undefined;
  }
  override simulatePlugged(plugged: boolean): void {
    this.plugged = plugged;
  }
}
