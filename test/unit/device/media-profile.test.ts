import { describe, expect, it } from 'vitest';
import { parseDeviceConfig } from '../../../device/config/device-config.loader.js';
import { effectiveMedia, MEDIA_PROFILES, profileForBoard } from '../../../device/domain/media-profile.js';
import {
  audioCodecOrder,
  mungeOpusAnswer,
  videoCodecOrder,
} from '../../../device/kiosk-page/src/codec-choice.js';

describe('media profiles by board (issue 16)', () => {
  it('picks the profile from the model the firmware reports', () => {
    expect(profileForBoard('Raspberry Pi 4 Model B Rev 1.5')).toBe('pi4');
    expect(profileForBoard('Raspberry Pi 400 Rev 1.0')).toBe('pi4');
    expect(profileForBoard('Raspberry Pi Compute Module 4 Rev 1.1')).toBe('pi4');
    expect(profileForBoard('Raspberry Pi 3 Model B Plus Rev 1.3')).toBe('pi4');
    expect(profileForBoard('Raspberry Pi 5 Model B Rev 1.0')).toBe('pi5');
    expect(profileForBoard('Raspberry Pi 500 Rev 1.0')).toBe('pi5');
    expect(profileForBoard(undefined)).toBe('pc');
    expect(profileForBoard('QEMU Virtual Machine')).toBe('pc');
  });

  it('fits the camera inside the profile keeping its shape, and caps rate and bitrate', () => {
    expect(effectiveMedia(MEDIA_PROFILES.pi4, { width: 1280, height: 720, fps: 30 }, 1024)).toMatchObject({
      width: 640,
      height: 360,
      fps: 24,
      videoKbps: 600,
      audioKbps: 32,
    });
    // A 4:3 camera is not stretched to 16:9.
    expect(effectiveMedia(MEDIA_PROFILES.pi4, { width: 640, height: 480, fps: 15 }, 300)).toMatchObject({
      width: 480,
      height: 360,
      fps: 15,
      videoKbps: 300,
    });
    // A camera already smaller than the profile is never scaled up.
    expect(effectiveMedia(MEDIA_PROFILES.pc, { width: 640, height: 360, fps: 30 }, 1024)).toMatchObject({
      width: 640,
      height: 360,
    });
  });

  it('takes media.profile from the config, and names a bad one', () => {
    const base = {
      device: { id: 'jx-ruijin-01', displayName: '瑞金' },
      janus: { url: 'ws://127.0.0.1:8188', room: 1 },
    };
    expect(parseDeviceConfig({ ...base, media: { profile: 'pi5' } }, 'test').media.profile).toBe('pi5');
    expect(parseDeviceConfig(base, 'test').media.profile).toBeUndefined();
    expect(() => parseDeviceConfig({ ...base, media: { profile: 'pi3' } }, 'test')).toThrow(/media\.profile/);
  });
});

const codec = (mimeType: string) => ({ mimeType, clockRate: mimeType.startsWith('audio') ? 48000 : 90000 });

describe('the page chooses its codecs (issue 16)', () => {
  it('offers VP8 with its retransmission only, whatever else the browser can do', () => {
    const all = [
      'video/VP9',
      'video/rtx',
      'video/H264',
      'video/VP8',
      'video/AV1',
      'video/red',
      'video/ulpfec',
    ].map((m) => codec(m));
    expect(videoCodecOrder(all, 'VP8').map((c) => c.mimeType)).toEqual([
      'video/VP8',
      'video/rtx',
      'video/red',
      'video/ulpfec',
    ]);
  });

  it('puts RED before Opus and leaves out the other audio codecs', () => {
    const all = [
      'audio/opus',
      'audio/G722',
      'audio/red',
      'audio/PCMU',
      'audio/CN',
      'audio/telephone-event',
    ].map((m) => codec(m));
    expect(audioCodecOrder(all).map((c) => c.mimeType)).toEqual(['audio/red', 'audio/opus']);
  });

  it('asks Opus for in-band FEC, DTX and the profile bitrate in the answer it applies', () => {
    const answer = [
      'v=0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=rtpmap:111 opus/48000/2',
      'a=fmtp:111 minptime=10;useinbandfec=0',
      'm=video 9 UDP/TLS/RTP/SAVPF 96',
      'a=rtpmap:96 VP8/90000',
      'a=fmtp:96 max-fs=3600',
      '',
    ].join('\r\n');
    const out = mungeOpusAnswer(answer, 32);
    expect(out).toContain(
      'a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1;maxaveragebitrate=32000;maxplaybackrate=16000\r\n',
    );
    expect(out).toContain('a=fmtp:96 max-fs=3600\r\n');
    // An Opus line without any fmtp gets one.
    const bare = mungeOpusAnswer('m=audio 9 UDP/TLS/RTP/SAVPF 109\r\na=rtpmap:109 opus/48000/2\r\n', 32);
    expect(bare).toContain(
      'a=rtpmap:109 opus/48000/2\r\na=fmtp:109 useinbandfec=1;usedtx=1;maxaveragebitrate=32000;maxplaybackrate=16000',
    );
  });
});
