import { Injectable } from '@nestjs/common';
import type { DeviceHealth } from '../ports/health.js';
import type { AudioDeviceInfo } from '../ports/microphone.port.js';
import { SpeakerPort } from '../ports/speaker.port.js';

const FAKE_SPEAKER: AudioDeviceInfo = {
  name: 'Simulated speaker',
  browserLabel: 'Fake Default Audio Output',
};

@Injectable()
export class SimSpeaker extends SpeakerPort {
  async check(): Promise<DeviceHealth> {
    return { status: 'ok', detail: FAKE_SPEAKER.name };
  }
  current(): AudioDeviceInfo | undefined {
    return FAKE_SPEAKER;
  }
}
