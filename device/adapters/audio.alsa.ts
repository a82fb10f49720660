import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { reason } from '../../common/errors.js';
import { createLogger, type Logger } from '../../common/logger.js';
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

/** The microphone's and the speaker's common part: finds the device, logs when it changes. */
class AlsaDeviceWatch {
  private readonly log: Logger;
  private found: AudioDeviceInfo | undefined;

  constructor(
    private readonly devices: AlsaDevices,
    private readonly direction: AudioDirection,
    private readonly fragment: string | undefined,
    private readonly what: 'microphone' | 'speaker',
    owner: string,
  ) {
    this.log = createLogger(owner);
  }

  async check(): Promise<DeviceHealth> {
    const { health, found } = await checkAudio(this.devices, this.direction, this.fragment, this.what);
    if (found && found.alsa !== this.found?.alsa)
      this.log.info(`Found ${this.what} name="${found.name}" alsa=${found.alsa}`);
    this.found = found;
    return health;
  }

  current(): AudioDeviceInfo | undefined {
    return this.found;
  }
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
  private readonly watch: AlsaDeviceWatch;

  constructor(devices: AlsaDevices, fragment: string | undefined) {
    super();
    this.watch = new AlsaDeviceWatch(devices, 'capture', fragment, 'microphone', AlsaMicrophone.name);
  }

  check(): Promise<DeviceHealth> {
    return this.watch.check();
  }
  current(): AudioDeviceInfo | undefined {
    return this.watch.current();
  }
}

/** The speaker: a playback device by configured name ("hdmi", "usb", …), else the first HDMI output. */
export class AlsaSpeaker extends SpeakerPort {
  private readonly watch: AlsaDeviceWatch;

  constructor(devices: AlsaDevices, fragment: string | undefined) {
    super();
    this.watch = new AlsaDeviceWatch(devices, 'playback', fragment, 'speaker', AlsaSpeaker.name);
  }

  check(): Promise<DeviceHealth> {
    return this.watch.check();
  }
  current(): AudioDeviceInfo | undefined {
    return this.watch.current();
  }
}
