import { describe, expect, it } from 'vitest';
import { Signal } from '../../../common/signal.js';
import type { SessionSnapshot } from '../../../device/domain/class-session.machine.js';
import type { KioskPagePort } from '../../../device/ports/kiosk-page.port.js';
import type { CameraPort } from '../../../device/ports/camera.port.js';
import type { DeviceHealth } from '../../../device/ports/health.js';
import type { JanusPort } from '../../../device/ports/janus.port.js';
import type { MicrophonePort } from '../../../device/ports/microphone.port.js';
import { NetworkError, type NetworkPort } from '../../../device/ports/network.port.js';
import type { SpeakerPort } from '../../../device/ports/speaker.port.js';
import type { ClassSessionService } from '../../../device/services/class-session.service.js';
import type { ConfigService } from '../../../device/services/config.service.js';
import type { HealthService } from '../../../device/services/health.service.js';
import type { LedService } from '../../../device/services/led.service.js';
import { SELF_TEST_SHOW_MS, SelfTestService } from '../../../device/services/self-test.service.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { strictFake } from '../../helpers/strict-fake.js';

const OK = (detail: string): DeviceHealth => ({ status: 'ok', detail });
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);

interface Options {
  url?: string;
  page?: boolean;
  snapshot?: () => Promise<Buffer>;
  tone?: () => Promise<void>;
  connect?: () => Promise<void>;
  probe?: () => Promise<number>;
  camera?: DeviceHealth;
}

function make(options: Options = {}) {
  const clock = new FakeClock();
  const session = {
    selfTestRequested: new Signal<void>('t.selfTest'),
    changed: new Signal<SessionSnapshot>('t.changed'),
  };
  const media = new Signal<{ type: 'media'; camera: 'ok'; microphone: 'ok' | 'missing'; level?: number }>(
    't.media',
  );
  const led: boolean[] = [];
  const healthSet: string[] = [];
  const probes: string[] = [];
  const url = 'url' in options ? options.url : 'wss://janus.example.cn:8989';
  const service = new SelfTestService(
    session as unknown as ClassSessionService,
    strictFake<CameraPort>('camera', { check: async () => options.camera ?? OK('HD Pro Webcam C920') }),
    strictFake<MicrophonePort>('microphone', { check: async () => OK('USB PnP Sound Device') }),
    strictFake<SpeakerPort>('speaker', { check: async () => OK('vc4-hdmi-0') }),
    strictFake<KioskPagePort>('page', {
      isConnected: () => options.page ?? false,
      media: media as unknown as KioskPagePort['media'],
      requestSnapshot: options.snapshot ?? (async () => JPEG),
      requestTone: options.tone ?? (async () => undefined),
    }),
    strictFake<JanusPort>('janus', { ensureConnected: options.connect ?? (async () => undefined) }),
    strictFake<NetworkPort>('network', {
      probe: async (host, port) => {
        probes.push(`${host}:${port}`);
        return options.probe ? options.probe() : 12;
      },
    }),
    strictFake<HealthService>('health', { set: (key) => void healthSet.push(key) }),
    strictFake<LedService>('leds', { setSelfTestRunning: (running) => void led.push(running) }),
    strictFake<ConfigService>('config', { current: { janus: { url } } } as unknown as ConfigService),
    clock,
  );
  service.onApplicationBootstrap();
  return { service, clock, session, media, led, healthSet, probes };
}

describe('SelfTestService', () => {
  it('checks everything in order, double-blinks meanwhile and keeps the results on screen for a minute', async () => {
    const { service, clock, led, probes, media } = make({ page: true });
    const running = service.run();
    await expect.poll(() => service.results()?.at(-1)).toEqual({ check: 'microphone', status: 'running' });
    media.emit({ type: 'media', camera: 'ok', microphone: 'ok', level: 0.2 });
    const results = await running;
    expect(results).toEqual([
      { check: 'camera', status: 'ok', detail: 'HD Pro Webcam C920' },
      { check: 'microphone', status: 'ok', detail: 'USB PnP Sound Device' },
      { check: 'speaker', status: 'ok', detail: 'vc4-hdmi-0' },
      { check: 'network', status: 'ok', detail: 'janus.example.cn:8989 in 12 ms' },
      { check: 'server', status: 'ok' },
    ]);
    expect(probes).toEqual(['janus.example.cn:8989']);
    expect(led).toEqual([true, false]);
    await clock.advance(SELF_TEST_SHOW_MS - 1);
    expect(service.results()).toHaveLength(5);
    await clock.advance(1);
    expect(service.results()).toBeUndefined();
  });

  it('starts when the session asks for it', async () => {
    const { service, session } = make();
    session.selfTestRequested.emit();
    await expect
      .poll(() => service.results()?.map((r) => r.status))
      .toEqual(['unchecked', 'unchecked', 'unchecked', 'ok', 'ok']);
  });

  it('says "not checked" for camera, microphone and speaker it found but could not try without the page', async () => {
    const { service } = make({ page: false });
    const results = await service.run();
    expect(results.slice(0, 3)).toEqual([
      { check: 'camera', status: 'unchecked', detail: 'HD Pro Webcam C920' },
      { check: 'microphone', status: 'unchecked', detail: 'USB PnP Sound Device' },
      { check: 'speaker', status: 'unchecked', detail: 'vc4-hdmi-0' },
    ]);
  });

  it('fails the server check when Janus does not answer within 5 s, and goes on', async () => {
    const { service, clock } = make({ connect: () => new Promise(() => undefined) });
    const running = service.run();
    await expect.poll(() => service.results()?.at(-1)).toEqual({ check: 'server', status: 'running' });
    await clock.advance(5000);
    const results = await running;
    expect(results.at(-1)).toEqual({
      check: 'server',
      status: 'failed',
      code: 'E-JANUS-UNREACHABLE',
      detail: 'no answer within 5000 ms',
    });
    expect(service.isRunning()).toBe(false);
  });

  it('fails the network check with E-NETWORK-DOWN and the reason', async () => {
    const { service } = make({
      probe: async () => {
        throw new NetworkError("can't reach janus.example.cn:8989: connect ECONNREFUSED");
      },
    });
    const results = await service.run();
    expect(results[3]).toEqual({
      check: 'network',
      status: 'failed',
      code: 'E-NETWORK-DOWN',
      detail: "can't reach janus.example.cn:8989: connect ECONNREFUSED",
    });
  });

  it('says the box is not configured when there is no class server yet', async () => {
    const { service, probes } = make({ url: undefined });
    const results = await service.run();
    expect(results.slice(3).map((r) => [r.check, r.code])).toEqual([
      ['network', 'E-NOT-CONFIGURED'],
      ['server', 'E-NOT-CONFIGURED'],
    ]);
    expect(probes).toEqual([]);
  });

  it('fails the camera with its own code when it is missing', async () => {
    const { service } = make({
      camera: { status: 'missing', code: 'E-CAMERA-MISSING', detail: 'no USB camera is plugged in' },
    });
    const [camera] = await service.run();
    expect(camera).toEqual({
      check: 'camera',
      status: 'failed',
      code: 'E-CAMERA-MISSING',
      detail: 'no USB camera is plugged in',
    });
  });

  it('with the page: checks the picture, listens to the microphone for 3 s and plays the tone', async () => {
    const tones: string[] = [];
    const { service, clock, media } = make({
      page: true,
      snapshot: async () => Buffer.from('not a jpeg'),
      tone: async () => {
        tones.push('tone');
        throw new Error('the kiosk page could not do speaker.tone: NotAllowedError');
      },
    });
    const running = service.run();
    await expect.poll(() => service.results()?.at(-1)?.check).toBe('microphone');
    media.emit({ type: 'media', camera: 'ok', microphone: 'ok', level: 0.001 });
    await clock.advance(2999);
    expect(service.results()?.[1]).toEqual({ check: 'microphone', status: 'running' });
    await clock.advance(1);
    const results = await running;
    expect(results.slice(0, 3)).toEqual([
      {
        check: 'camera',
        status: 'failed',
        code: 'E-CAMERA-NO-PICTURE',
        detail: 'HD Pro Webcam C920: the picture is not a JPEG',
      },
      {
        check: 'microphone',
        status: 'failed',
        code: 'E-MICROPHONE-SILENT',
        detail: 'USB PnP Sound Device: no sound for 3 s',
      },
      {
        check: 'speaker',
        status: 'failed',
        code: 'E-SPEAKER-FAILED',
        detail: 'vc4-hdmi-0: the kiosk page could not do speaker.tone: NotAllowedError',
      },
    ]);
    expect(tones).toEqual(['tone']);
  });

  it('passes the microphone as soon as the page hears sound', async () => {
    const { service, media } = make({ page: true });
    const running = service.run();
    await expect.poll(() => service.results()?.at(-1)?.check).toBe('microphone');
    media.emit({ type: 'media', camera: 'ok', microphone: 'ok', level: 0.2 });
    const results = await running;
    expect(results[1]).toEqual({ check: 'microphone', status: 'ok', detail: 'USB PnP Sound Device' });
  });

  it('ignores a second request while running, and a class starting clears the results', async () => {
    const { service, clock, session } = make({ connect: () => new Promise(() => undefined) });
    const first = service.run();
    await expect.poll(() => service.results()?.at(-1)?.check).toBe('server');
    const second = await service.run();
    expect(second).toBe(service.results());
    expect(service.isRunning()).toBe(true);
    await clock.advance(5000);
    await first;
    session.changed.emit({ state: 'joining' });
    expect(service.results()).toBeUndefined();
  });
});
