import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import {
  alsaAddress,
  chooseAudio,
  parseAlsaList,
  parseAsoundPcm,
  type AlsaPcm,
  type AudioDirection,
} from '../domain/alsa-devices.js';
import type { DeviceHealth } from '../ports/health.js';
import { MicrophonePort, type AudioDeviceInfo } from '../ports/microphone.port.js';
import { ProcessPort } from '../ports/process.port.js';
import { SpeakerPort } from '../ports/speaker.port.js';

const LIST_TIMEOUT_MS = 5000;

/**
 * ALSA's devices, read from /proc/asound on every check (USB hot-plug); where /proc/asound is
 * hidden (containers mask it) `arecord -l` / `aplay -l` give the same list.
 */
export class AlsaDevices {
  constructor(
    private readonly processes: ProcessPort,
    private readonly procRoot = '/proc',
  ) {}

  async list(direction: AudioDirection): Promise<AlsaPcm[]> {
    try {
      const [pcm, cards] = await Promise.all([
        readFile(join(this.procRoot, 'asound', 'pcm'), 'utf8'),
        readFile(join(this.procRoot, 'asound', 'cards'), 'utf8'),
      ]);
      return parseAsoundPcm(pcm, cards).filter((p) => p[direction]);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const command = direction === 'capture' ? 'arecord' : 'aplay';
    const result = await this.processes.run({ label: command, command, args: ['-l'] }, LIST_TIMEOUT_MS);
    // "no soundcards found" comes on stderr with a non-zero code: that is an empty list, not a failure.
    return parseAlsaList(result.stdout);
  }
}

interface AudioCheck {
  readonly health: DeviceHealth;
  readonly found: AudioDeviceInfo | undefined;
}

async function checkAudio(
  devices: AlsaDevices,
  direction: AudioDirection,
  fragment: string | undefined,
  what: 'microphone' | 'speaker',
): Promise<AudioCheck> {
  const code = what === 'microphone' ? 'E-MICROPHONE-MISSING' : 'E-SPEAKER-MISSING';
  let pcms: AlsaPcm[];
  try {
    pcms = await devices.list(direction);
  } catch (error) {
    return {
      found: undefined,
      health: { status: 'error', code, detail: `can't list sound devices: ${reason(error)}` },
    };
  }
  const pcm = chooseAudio(pcms, direction, fragment);
  if (pcm) {
    return {
      found: { name: pcm.cardName, alsa: alsaAddress(pcm), browserLabel: pcm.cardName },
      health: { status: 'ok', detail: pcm.cardName },
    };
  }
  const detail =
    pcms.length === 0
      ? `no ${what} is connected`
      : `no ${what} named "${fragment}"; found ${pcms.map((p) => `"${p.cardName}"`).join(', ')}`;
  return { found: undefined, health: { status: 'missing', code, detail } };
}

/** The microphone: a capture device, by configured name or the first one. */
export class AlsaMicrophone extends MicrophonePort {
  private readonly log = createLogger(AlsaMicrophone.name);
  private found: AudioDeviceInfo | undefined;

  constructor(
    private readonly devices: AlsaDevices,
    private readonly fragment: string | undefined,
  ) {
    super();
  }

  async check(): Promise<DeviceHealth> {
    const { health, found } = await checkAudio(this.devices, 'capture', this.fragment, 'microphone');
    if (found && found.alsa !== this.found?.alsa)
      this.log.info(`Found microphone name="${found.name}" alsa=${found.alsa}`);
    this.found = found;
    return health;
  }

  current(): AudioDeviceInfo | undefined {
    return this.found;
  }
}

/** The speaker: a playback device by configured name ("hdmi", "usb", …), else the first HDMI output. */
export class AlsaSpeaker extends SpeakerPort {
  private readonly log = createLogger(AlsaSpeaker.name);
  private found: AudioDeviceInfo | undefined;

  constructor(
    private readonly devices: AlsaDevices,
    private readonly fragment: string | undefined,
  ) {
    super();
  }

  async check(): Promise<DeviceHealth> {
    const { health, found } = await checkAudio(this.devices, 'playback', this.fragment, 'speaker');
    if (found && found.alsa !== this.found?.alsa)
      this.log.info(`Found speaker name="${found.name}" alsa=${found.alsa}`);
    this.found = found;
    return health;
  }

  current(): AudioDeviceInfo | undefined {
    return this.found;
  }
}
