import { describe, expect, it } from 'vitest';
import { parseDeviceConfig } from '../../../device/config/device-config.loader.js';
import { effectiveMedia, MEDIA_PROFILES, profileForBoard } from '../../../device/domain/media-profile.js';
import {
  audioCodecOrder,
  mungeOpusAnswer,
  videoCodecOrder,
  withAudioNack,
} from '../../../device/kiosk-page/src/codec-choice.js';
import { videoEncodings } from '../../../device/kiosk-page/src/simulcast.js';

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

  it('asks Opus for in-band FEC, DTX, the profile bitrate and NACK in the answer it applies', () => {
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
      'a=rtpmap:109 opus/48000/2\r\na=rtcp-fb:109 nack\r\na=fmtp:109 useinbandfec=1;usedtx=1;maxaveragebitrate=32000;maxplaybackrate=16000',
    );
  });

  it('asks for lost sound to be resent (NACK on Opus) in its offer and in the answer it applies, once', () => {
    // Chromium's offer as it comes (RED first, Opus without NACK), and Janus 1.1.2's answer to it.
    const offer = [
      'v=0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 63 111',
      'a=rtpmap:63 red/48000/2',
      'a=fmtp:63 111/111',
      'a=rtpmap:111 opus/48000/2',
      'a=rtcp-fb:111 transport-cc',
      'a=fmtp:111 minptime=10;useinbandfec=1',
      'm=video 9 UDP/TLS/RTP/SAVPF 96',
      'a=rtpmap:96 VP8/90000',
      'a=rtcp-fb:96 nack',
      '',
    ].join('\r\n');
    const out = withAudioNack(offer);
    expect(out).toContain(
      'a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 nack\r\na=rtcp-fb:111 transport-cc\r\n',
    );
    // Only Opus: RED's and the video's lines are as they were.
    expect(out.split('\r\n').filter((l) => l.startsWith('a=rtcp-fb:'))).toEqual([
      'a=rtcp-fb:111 nack',
      'a=rtcp-fb:111 transport-cc',
      'a=rtcp-fb:96 nack',
    ]);
    expect(withAudioNack(out)).toBe(out);
    const answer = [
      'v=0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=rtpmap:111 opus/48000/2',
      'a=fmtp:111 useinbandfec=1',
      '',
    ].join('\r\n');
    expect(mungeOpusAnswer(answer, 32)).toContain(
      'a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 nack\r\na=fmtp:111 useinbandfec=1;usedtx=1',
    );
  });
});

describe('the simulcast layers the box sends (issue 16)', () => {
  it('sends one layer with the pi4 profile (measured: a second one costs it its frame rate), three with pi5 and pc', () => {
    expect([MEDIA_PROFILES.pi4.layers, MEDIA_PROFILES.pi5.layers, MEDIA_PROFILES.pc.layers]).toEqual([
      1, 3, 3,
    ]);
  });

  it('sends two layers, the small one half as wide at no more than 15 fps', () => {
    const [full, small] = videoEncodings(2, 600, 24);
    expect(full).toMatchObject({ rid: 'h', active: true, scaleResolutionDownBy: 1, maxFramerate: 24 });
    expect(small).toMatchObject({ rid: 'l', active: true, scaleResolutionDownBy: 2, maxFramerate: 15 });
    // The bitrate is shared, the whole within the profile's cap.
    expect(full!.maxBitrate + small!.maxBitrate).toBe(600_000);
    expect(small!.maxBitrate).toBeLessThanOrEqual(150_000);
    // Three temporal layers in each, so Janus can relay a thumbnail at a fraction of the frame rate.
    expect([full, small].every((e) => e!.scalabilityMode === 'L1T3')).toBe(true);
  });

  it('sends three layers (full, half, quarter) in Janus order, the full picture first', () => {
    const encodings = videoEncodings(3, 1000, 30);
    expect(encodings.map((e) => [e.rid, e.scaleResolutionDownBy])).toEqual([
      ['h', 1],
      ['m', 2],
      ['l', 4],
    ]);
    expect(encodings.reduce((sum, e) => sum + e.maxBitrate, 0)).toBe(1_000_000);
  });

  it('tries video after sound only with the half-size layer alone, within 200 kbit/s, as without simulcast', () => {
    const encodings = videoEncodings(3, 1000, 30, 'low');
    expect(encodings.map((e) => e.active)).toEqual([false, true, false]);
    expect(encodings[1]).toMatchObject({ scaleResolutionDownBy: 2, maxBitrate: 200_000, maxFramerate: 30 });
    expect(videoEncodings(2, 600, 24, 'low').map((e) => e.active)).toEqual([false, true]);
    // One layer: the picture itself is halved for the try.
    expect(videoEncodings(1, 1000, 30, 'low')).toEqual([
      { active: true, scaleResolutionDownBy: 2, maxBitrate: 200_000, maxFramerate: 30 },
    ]);
    expect(videoEncodings(1, 1000, 30)).toEqual([
      { active: true, scaleResolutionDownBy: 1, maxBitrate: 1_000_000, maxFramerate: 30 },
    ]);
  });

  it("decodes the teacher's middle layer on a Pi 4 and the full one elsewhere, the config overriding it", () => {
    expect(MEDIA_PROFILES.pi4.maxTeacherLayer).toBe('mid');
    expect(MEDIA_PROFILES.pi5.maxTeacherLayer).toBe('high');
    expect(MEDIA_PROFILES.pc.maxTeacherLayer).toBe('high');
    const base = { device: { id: 'jx-ruijin-01', displayName: 'x' }, janus: { url: 'ws://j', room: 1 } };
    expect(
      parseDeviceConfig({ ...base, media: { maxTeacherLayer: 'high' } }, 'test').media.maxTeacherLayer,
    ).toBe('high');
    expect(() => parseDeviceConfig({ ...base, media: { maxTeacherLayer: 'full' } }, 'test')).toThrow(
      /media\.maxTeacherLayer/,
    );
  });

  it('decodes one other centre at a time with the pi4 profile (measured: each whole-stream thumbnail costs it a third of its frame rate), more on a Pi 5 and a PC', () => {
    expect([MEDIA_PROFILES.pi4, MEDIA_PROFILES.pi5, MEDIA_PROFILES.pc].map((p) => p.maxThumbnails)).toEqual([
      1, 4, 6,
    ]);
  });

  it('takes media.maxThumbnails from the config, and names a bad one', () => {
    const base = { device: { id: 'jx-ruijin-01', displayName: 'x' }, janus: { url: 'ws://j', room: 1 } };
    expect(parseDeviceConfig({ ...base, media: { maxThumbnails: 3 } }, 'test').media.maxThumbnails).toBe(3);
    expect(() => parseDeviceConfig({ ...base, media: { maxThumbnails: -1 } }, 'test')).toThrow(
      /media\.maxThumbnails/,
    );
  });
});
