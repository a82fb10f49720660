import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Signal } from '../../../common/signal.js';
import { parseDeviceConfig } from '../../../device/config/device-config.loader.js';
import type { KioskPagePort } from '../../../device/ports/kiosk-page.port.js';
import {
  JanusError,
  JanusPort,
  type IceCandidate,
  type JanusMediaEvent,
  type PublishRequest,
  type RemotePublisher,
  type SubscriberOffer,
} from '../../../device/ports/janus.port.js';
import { ClassSessionService } from '../../../device/services/class-session.service.js';
import { ConfigService } from '../../../device/services/config.service.js';
import { ClassLocationService } from '../../../device/services/class-location.service.js';
import { ClassPlacementPort } from '../../../device/ports/class-placement.port.js';
import { FleetError } from '../../../device/ports/fleet.port.js';
import { HealthService } from '../../../device/services/health.service.js';
import { MetricsService } from '../../../device/services/metrics.service.js';
import type { DaemonMessage } from '../../../device/protocol/kiosk-messages.js';
import { FakeClock, flush } from '../../helpers/fake-clock.js';
import { strictFake } from '../../helpers/strict-fake.js';

const OFFER = { type: 'offer' as const, sdp: 'v=0 publisher-offer' };
const ANSWER = { type: 'answer' as const, sdp: 'v=0 janus-answer' };
const TEACHER: RemotePublisher = {
  feed: '11',
  display: '王老师',
  streams: [
    { mid: '0', type: 'audio' },
    { mid: '1', type: 'video' },
  ],
};

function setup() {
  const config = new ConfigService(
    parseDeviceConfig(
      {
        device: { id: 'jx-ruijin-01', displayName: '瑞金教学点' },
        janus: { url: 'ws://janus:8188', room: 2222, pin: '1357', token: 'tok', bitrateKbps: 800 },
      },
      'test',
    ),
  );
  const clock = new FakeClock();
  const sent: DaemonMessage[] = [];
  const signals = {
    publishersChanged: new Signal<readonly RemotePublisher[]>('p'),
    connectionLost: new Signal<JanusError>('l'),
    mediaEvent: new Signal<JanusMediaEvent>('m'),
    subscriberOffer: new Signal<SubscriberOffer>('s'),
    remoteCandidate: new Signal<{ target: 'publisher' | 'subscriber'; candidate: IceCandidate | null }>('r'),
  };
  const janus = strictFake<JanusPort>('JanusPort', {
    ...signals,
    ensureConnected: vi.fn(async () => undefined),
    publish: vi.fn(async (_: PublishRequest) => ({ feed: '42', answer: ANSWER, publishers: [TEACHER] })),
    subscribe: vi.fn(async () => ({ offer: { type: 'offer' as const, sdp: 'v=0 sub-offer' }, streams: [] })),
    startSubscriber: vi.fn(async () => undefined),
    leave: vi.fn(async () => undefined),
    ensureClosed: vi.fn(async () => undefined),
    trickle: vi.fn(async () => undefined),
    // Only asked while reconnecting: whether Janus itself is gone (then the class may have moved).
    isConnected: vi.fn(() => false),
  });
  const placement = strictFake<ClassPlacementPort>('ClassPlacementPort', {
    locate: vi.fn(async () => undefined),
  });
  const location = new ClassLocationService(config, placement);
  location.onApplicationBootstrap();
  const pageConnected = new Signal<void>('co');
  const page = strictFake<KioskPagePort>('KioskPagePort', {
    candidate: new Signal('c'),
    connection: new Signal('cs'),
    disconnected: new Signal('d'),
    connected: pageConnected,
    isConnected: vi.fn(() => true),
    send: vi.fn((m: DaemonMessage) => {
      sent.push(m);
      return true;
    }),
    requestPublisherOffer: vi.fn(async () => OFFER),
    requestSubscriberAnswer: vi.fn(async () => ({ type: 'answer' as const, sdp: 'v=0 sub-answer' })),
  });
  const health = strictFake<HealthService>('HealthService', {
    set: vi.fn(),
    get: vi.fn(() => ({ status: 'ok' as const })),
  });
  const service = new ClassSessionService(config, janus, page, health, clock, new MetricsService(), location);
  service.onApplicationBootstrap();
  return { service, janus, page, pageConnected, clock, sent, signals, config, placement, location };
}

describe('ClassSessionService', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(async () => {
    t = setup();
    await flush();
  });

  it('joins with the page offer, the config secrets and the bitrate cap, then subscribes to the teacher', async () => {
    t.service.dispatch({ type: 'classPressed' });
    expect(t.service.state.state).toBe('joining');
    await flush();
    expect(t.service.state.state).toBe('live');
    expect(t.janus.publish).toHaveBeenCalledWith({
      room: 2222,
      display: '瑞金教学点',
      pin: '1357',
      token: 'tok',
      bitrateKbps: 800,
      offer: OFFER,
    });
    expect(t.sent).toContainEqual({ type: 'publisher.answer', jsep: ANSWER });
    expect(t.service.currentFeed).toBe('42');
    expect(t.service.remoteFeeds).toEqual([TEACHER]);
    await flush();
    expect(t.janus.subscribe).toHaveBeenCalledWith(2222, [TEACHER], { pin: '1357', token: 'tok' });
    expect(t.janus.startSubscriber).toHaveBeenCalledWith({ type: 'answer', sdp: 'v=0 sub-answer' });
  });

  it("tells the subscription's streams (for their layers) before the page answers Janus's offer", async () => {
    const streams = [{ mid: '1', feed: '11', display: '王老师', type: 'video' as const }];
    vi.mocked(t.janus.subscribe).mockResolvedValue({
      offer: { type: 'offer', sdp: 'v=0 sub-offer' },
      streams,
    });
    const seen: { streams: unknown; answeredYet: boolean }[] = [];
    t.service.subscriptionChanged.on('test', (s) => {
      seen.push({ streams: s, answeredYet: vi.mocked(t.page.requestSubscriberAnswer).mock.calls.length > 0 });
    });
    t.service.dispatch({ type: 'classPressed' });
    await flush();
    await flush();
    expect(seen).toEqual([{ streams, answeredYet: false }]);
    expect(t.janus.startSubscriber).toHaveBeenCalled();
  });

  it('starts the class as soon as the kiosk page is there when pressed before it connected', async () => {
    vi.mocked(t.page.isConnected).mockReturnValue(false);
    t.service.dispatch({ type: 'classPressed' });
    await t.clock.advance(3000);
    expect(t.service.state.state).toBe('joining');
    expect(t.page.requestPublisherOffer).not.toHaveBeenCalled();
    vi.mocked(t.page.isConnected).mockReturnValue(true);
    t.pageConnected.emit();
    await flush();
    expect(t.service.state.state).toBe('live');
    expect(t.page.requestPublisherOffer).toHaveBeenCalledTimes(1);
    // A page still preparing has the join's whole time limit to hand over its offer.
    expect(t.page.requestPublisherOffer).toHaveBeenCalledWith(
      expect.objectContaining({ audio: true }),
      t.config.current.session.joinTimeoutMs,
    );
  });

  it('shows the room error code when Janus refuses the join, and closes the page media', async () => {
    vi.mocked(t.janus.publish).mockRejectedValueOnce(new JanusError('E-ROOM-PIN', 'wrong pin'));
    t.service.dispatch({ type: 'classPressed' });
    await flush();
    expect(t.service.state).toMatchObject({ state: 'error', errorCode: 'E-ROOM-PIN' });
    expect(t.sent).toContainEqual({ type: 'publisher.close' });
  });

  it('gives up a join that takes longer than the limit, with E-JOIN-TIMEOUT', async () => {
    vi.mocked(t.janus.publish).mockReturnValueOnce(new Promise(() => undefined));
    t.service.dispatch({ type: 'classPressed' });
    await t.clock.advance(t.config.current.session.joinTimeoutMs + 1);
    expect(t.service.state).toMatchObject({ state: 'error', errorCode: 'E-JOIN-TIMEOUT' });
  });

  it('reconnects by itself after Janus goes away, retrying with backoff until it is back', async () => {
    t.service.dispatch({ type: 'classPressed' });
    await flush();
    vi.mocked(t.janus.ensureConnected).mockRejectedValue(new JanusError('E-JANUS-UNREACHABLE', 'refused'));
    t.signals.connectionLost.emit(new JanusError('E-CONNECTION-LOST', 'closed'));
    await flush();
    expect(t.service.state.state).toBe('reconnecting');
    await t.clock.advance(2000);
    expect(t.service.state.state).toBe('reconnecting');
    const attempts = vi.mocked(t.janus.ensureConnected).mock.calls.length;
    expect(attempts).toBeGreaterThan(2);
    vi.mocked(t.janus.ensureConnected).mockResolvedValue(undefined);
    await t.clock.advance(3000);
    expect(t.service.state.state).toBe('live');
    expect(t.janus.publish).toHaveBeenCalledTimes(2);
    // The press takes the offer the page prepared while idle; the rejoin after the lost connection
    // asks for a new one (the prepared candidates may be from a network that is gone).
    const asked = vi.mocked(t.page.requestPublisherOffer).mock.calls.map(([media]) => media.fresh);
    expect(asked[0]).toBe(false);
    expect(asked.at(-1)).toBe(true);
  });

  it('follows its class to the media node the fleet moved it to, saying so on screen (issue 19)', async () => {
    t.service.dispatch({ type: 'classPressed' });
    await flush();
    const urls: (string | undefined)[] = [];
    // The old node is dead until the fleet has moved the class; the new node answers.
    vi.mocked(t.janus.ensureConnected).mockImplementation(async () => {
      urls.push(t.location.url);
      if (t.location.url !== 'ws://janus-b:8188') throw new JanusError('E-JANUS-UNREACHABLE', 'refused');
    });
    vi.mocked(t.placement.locate)
      .mockResolvedValueOnce({ url: 'ws://janus:8188', room: 2222, fallbackUrls: [] })
      .mockResolvedValue({ url: 'ws://janus-b:8188', room: 3333, fallbackUrls: [] });
    const shown: (string | undefined)[] = [];
    t.service.changed.on('test', (s) => void shown.push(s.errorCode));
    t.signals.connectionLost.emit(new JanusError('E-CONNECTION-LOST', 'closed'));
    await flush();
    expect(t.service.state.state).toBe('reconnecting');
    await t.clock.advance(1000);
    expect(shown).toContain('E-NODE-MOVED');
    expect(t.service.state.state).toBe('live');
    expect(urls).toEqual(['ws://janus:8188', 'ws://janus-b:8188']);
    expect(vi.mocked(t.janus.publish).mock.calls.at(-1)?.[0].room).toBe(3333);
  });

  it("walks its config's fallback nodes in order when the fleet can't be asked, and goes where the fleet has the class once it answers", async () => {
    t.config.replace({
      ...t.config.current,
      janus: { ...t.config.current.janus, fallbackUrls: ['ws://janus-b:8188', 'ws://janus-c:8188'] },
    });
    t.service.dispatch({ type: 'classPressed' });
    await flush();
    const urls: (string | undefined)[] = [];
    vi.mocked(t.janus.ensureConnected).mockImplementation(async () => {
      urls.push(t.location.url);
      if (t.location.url !== 'ws://janus-c:8188') throw new JanusError('E-JANUS-UNREACHABLE', 'refused');
    });
    vi.mocked(t.placement.locate).mockRejectedValue(new FleetError('E-FLEET-UNREACHABLE', 'no route'));
    t.signals.connectionLost.emit(new JanusError('E-CONNECTION-LOST', 'closed'));
    await t.clock.advance(2000);
    expect(t.service.state.state).toBe('live');
    expect(urls).toEqual(['ws://janus-b:8188', 'ws://janus-c:8188']);
    expect(t.location.room).toBe(2222);

    // The box's network was what failed: the fleet, reachable again, has the class on its first node.
    // A class must not stay split over two nodes, so the box follows.
    vi.mocked(t.janus.ensureConnected).mockImplementation(async () => void urls.push(t.location.url));
    vi.mocked(t.placement.locate).mockResolvedValue({ url: 'ws://janus:8188', room: 2222, fallbackUrls: [] });
    await t.clock.advance(6000);
    expect(t.service.state.state).toBe('live');
    expect(urls.at(-1)).toBe('ws://janus:8188');
    expect(t.location.unconfirmed).toBe(false);
  });

  it('ignores a late answer after the tutor ended the class', async () => {
    let resolvePublish!: (v: Awaited<ReturnType<JanusPort['publish']>>) => void;
    vi.mocked(t.janus.publish).mockReturnValueOnce(new Promise((r) => (resolvePublish = r)));
    t.service.dispatch({ type: 'classPressed' });
    await flush();
    t.service.dispatch({ type: 'endRequested' });
    await flush();
    expect(t.service.state.state).toBe('idle');
    resolvePublish({ feed: '42', answer: ANSWER, publishers: [] });
    await flush();
    expect(t.service.state.state).toBe('idle');
    expect(t.sent).not.toContainEqual({ type: 'publisher.answer', jsep: ANSWER });
  });

  it('says E-NOT-CONFIGURED when the box has no room yet', async () => {
    t.config.replace({ ...t.config.current, janus: { ...t.config.current.janus, room: undefined } });
    t.service.dispatch({ type: 'classPressed' });
    await flush();
    expect(t.service.state).toMatchObject({ state: 'error', errorCode: 'E-NOT-CONFIGURED' });
  });
});
