import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlsaDevices, AlsaMicrophone, AlsaSpeaker } from '../../../device/adapters/audio.alsa.js';
import { chooseAudio, parseAlsaList, parseAsoundPcm } from '../../../device/domain/alsa-devices.js';
import { ProcessPort, type ProcessSpec, type RunResult } from '../../../device/ports/process.port.js';

const alsa = join(import.meta.dirname, '../../fixtures/hardware/alsa');
const text = (...path: string[]): string => readFileSync(join(alsa, ...path), 'utf8');
const proc = (box: string) => parseAsoundPcm(text(box, 'asound', 'pcm'), text(box, 'asound', 'cards'));

/** Strict: a listing run that the test did not expect fails it. */
class ListingProcesses extends ProcessPort {
  readonly runs: string[] = [];
  constructor(private readonly outputs: Record<string, string>) {
    super();
  }
  spawn(): never {
    throw new Error('unexpected spawn');
  }
  async run(spec: ProcessSpec): Promise<RunResult> {
    const key = `${spec.command} ${spec.args.join(' ')}`;
    this.runs.push(key);
    const stdout = this.outputs[key];
    if (stdout === undefined) throw new Error(`unexpected run: ${key}`);
    return { code: 0, stdout, stderr: '' };
  }
}

describe('ALSA device lists', () => {
  it('reads /proc/asound of a Pi 4 with a USB PnP sound device', () => {
    expect(proc('pi4-usb-pnp')).toEqual([
      {
        card: 0,
        device: 0,
        cardId: 'Headphones',
        cardName: 'bcm2835 Headphones',
        pcmName: 'bcm2835 Headphones',
        playback: true,
        capture: false,
      },
      {
        card: 1,
        device: 0,
        cardId: 'vc4hdmi0',
        cardName: 'vc4-hdmi-0',
        pcmName: 'MAI PCM i2s-hifi-0',
        playback: true,
        capture: false,
      },
      {
        card: 2,
        device: 0,
        cardId: 'vc4hdmi1',
        cardName: 'vc4-hdmi-1',
        pcmName: 'MAI PCM i2s-hifi-0',
        playback: true,
        capture: false,
      },
      {
        card: 3,
        device: 0,
        cardId: 'Device',
        cardName: 'USB PnP Sound Device',
        pcmName: 'USB Audio',
        playback: true,
        capture: true,
      },
    ]);
  });

  it('gives the same devices from arecord -l and aplay -l as from /proc/asound on the same box', () => {
    const fromLists = [
      ...parseAlsaList(text('pi4-usb-pnp', 'aplay-l.txt')),
      ...parseAlsaList(text('pi4-usb-pnp', 'arecord-l.txt')),
    ];
    const key = (p: { card: number; device: number; cardId: string; cardName: string; pcmName: string }) =>
      `${p.card},${p.device} ${p.cardId} [${p.cardName}] ${p.pcmName}`;
    const fromProc = proc('pi4-usb-pnp');
    expect(new Set(fromLists.map(key))).toEqual(new Set(fromProc.map(key)));
    expect(fromLists.filter((p) => p.capture).map(key)).toEqual(fromProc.filter((p) => p.capture).map(key));
  });

  it('reads "no soundcards found" as no devices', () => {
    expect(parseAlsaList(text('arecord-l-no-soundcards.txt'))).toEqual([]);
  });

  it('chooses the first capture device as the microphone and HDMI as the default speaker', () => {
    const pcms = proc('pi4-usb-pnp');
    expect(chooseAudio(pcms, 'capture')?.cardName).toBe('USB PnP Sound Device');
    expect(chooseAudio(pcms, 'playback')?.cardName).toBe('vc4-hdmi-0');
  });

  it('chooses the speaker by a configured word: "usb", "hdmi1" or a card name part', () => {
    const pcms = proc('pi5-usb-mic');
    expect(chooseAudio(pcms, 'playback', 'usb')?.cardName).toBe('UACDemoV1.0');
    expect(chooseAudio(pcms, 'playback', 'HDMI1')?.cardName).toBe('vc4-hdmi-1');
    expect(chooseAudio(pcms, 'capture', 'microphone')?.card).toBe(2);
    expect(chooseAudio(pcms, 'capture', 'UACDemo')).toBeUndefined();
  });
});

describe('AlsaMicrophone and AlsaSpeaker', () => {
  it('report the chosen devices with their ALSA address and browser label', async () => {
    const devices = new AlsaDevices(new ListingProcesses({}), join(alsa, 'pi4-usb-pnp'));
    const microphone = new AlsaMicrophone(devices, undefined);
    const speaker = new AlsaSpeaker(devices, 'usb');
    expect(await microphone.check()).toEqual({ status: 'ok', detail: 'USB PnP Sound Device' });
    expect(microphone.current()).toEqual({
      name: 'USB PnP Sound Device',
      alsa: 'hw:3,0',
      browserLabel: 'USB PnP Sound Device',
    });
    expect(await speaker.check()).toEqual({ status: 'ok', detail: 'USB PnP Sound Device' });
    expect(speaker.current()?.alsa).toBe('hw:3,0');
  });

  it('reports a missing microphone on a Pi 5 with only HDMI audio', async () => {
    const devices = new AlsaDevices(new ListingProcesses({}), join(alsa, 'pi5-no-mic'));
    const microphone = new AlsaMicrophone(devices, undefined);
    expect(await microphone.check()).toEqual({
      status: 'missing',
      code: 'E-MICROPHONE-MISSING',
      detail: 'no microphone is connected',
    });
    expect(microphone.current()).toBeUndefined();
  });

  it('names what it found when the configured speaker is absent', async () => {
    const devices = new AlsaDevices(new ListingProcesses({}), join(alsa, 'pi5-no-mic'));
    expect(await new AlsaSpeaker(devices, 'usb').check()).toEqual({
      status: 'missing',
      code: 'E-SPEAKER-MISSING',
      detail: 'no speaker named "usb"; found "vc4-hdmi-0", "vc4-hdmi-1"',
    });
  });

  it('falls back to arecord -l when /proc/asound is hidden', async () => {
    const processes = new ListingProcesses({ 'arecord -l': text('pi4-usb-pnp', 'arecord-l.txt') });
    const devices = new AlsaDevices(processes, join(alsa, 'no-proc-here'));
    const microphone = new AlsaMicrophone(devices, undefined);
    expect(await microphone.check()).toEqual({ status: 'ok', detail: 'USB PnP Sound Device' });
    expect(processes.runs).toEqual(['arecord -l']);
  });
});
