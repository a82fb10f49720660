import {
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { FaultCode } from '../../common/error-catalog.js';
import { ClassboxError, reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { Signal } from '../../common/signal.js';
import { Backoff } from '../domain/backoff.js';
import {
  INITIAL_SESSION,
  transition,
  type SessionEffect,
  type SessionEvent,
  type SessionSnapshot,
} from '../domain/class-session.machine.js';
import { KioskPageError, KioskPagePort } from '../ports/kiosk-page.port.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import {
  JanusError,
  JanusPort,
  type RemotePublisher,
  type SubscribedStream,
  type SubscriberOffer,
} from '../ports/janus.port.js';
import { ClassLocationService } from './class-location.service.js';
import { ConfigService } from './config.service.js';
import { HealthService } from './health.service.js';
import { MetricsService } from './metrics.service.js';

export type JoinStep = 'server' | 'publish' | 'subscribe';

class JoinTimeoutError extends JanusError {
  constructor(ms: number) {
    super('E-JOIN-TIMEOUT', `joining took longer than ${ms} ms`);
  }
}

/** How often a box on a fallback node it took alone asks the fleet where its class is (issue 19). */
const CONFIRM_NODE_EVERY_MS = 5000;

/** A newer join, leave or rejoin made this one obsolete (caught and dropped; never shown). */
class SupersededError extends ClassboxError<'E-INTERNAL'> {
  constructor() {
    super('E-INTERNAL', 'a newer join, leave or rejoin took over');
  }
}

/**
 * Runs the class: carries out what the session machine decides, with Janus and the kiosk page.
 * Every async step checks the `generation` it was started under, so a leave or a rejoin
 * can never be undone by a late answer of an older attempt.
 */
@Injectable()
export class ClassSessionService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly log = createLogger(ClassSessionService.name);
  private snapshot: SessionSnapshot = INITIAL_SESSION;
  private generation = 0;
  private feed: string | undefined;
  private remote: readonly RemotePublisher[] = [];
  private room: number | undefined;
  private step: JoinStep | undefined;
  private hint: 'holdToEnd' | 'busy' | undefined;
  private hintTimer: TimerHandle | undefined;
  private warmTimer: TimerHandle | undefined;
  private confirmTimer: TimerHandle | undefined;
  private readonly warmBackoff = new Backoff({ initialMs: 500, maxMs: 5000 });
  private readonly rejoinBackoff = new Backoff({ initialMs: 250, maxMs: 3000 });
  private subscriptionChain: Promise<void> = Promise.resolve();
  private stopping = false;
  private joinStartedAt = 0;

  readonly changed = new Signal<SessionSnapshot>('session.changed');
  readonly selfTestRequested = new Signal<void>('session.selfTestRequested');
  /**
   * The streams of the subscription as Janus now offers them, emitted before the page answers, so the
   * layers and the decode cap (ReceiveService) are set before the first frame of a new stream arrives.
   */
  readonly subscriptionChanged = new Signal<readonly SubscribedStream[]>('session.subscriptionChanged');

  constructor(
    private readonly config: ConfigService,
    private readonly janus: JanusPort,
    private readonly page: KioskPagePort,
    private readonly health: HealthService,
    private readonly clock: ClockPort,
    private readonly metrics: MetricsService,
    private readonly location: ClassLocationService,
  ) {}

  onApplicationBootstrap(): void {
    const owner = ClassSessionService.name;
    this.janus.publishersChanged.on(owner, (list) => this.onPublishers(list));
    this.janus.connectionLost.on(owner, (error) => this.onConnectionLost(error));
    // Janus renegotiates by itself when a subscribed publisher leaves; answer in line with our own updates.
    this.janus.subscriberOffer.on(owner, (offer) =>
      this.enqueueSubscription(() => this.answerSubscriber(this.generation, offer)),
    );
    this.janus.mediaEvent.on(owner, (event) => {
      if (event.kind === 'hangup' && event.target === 'publisher' && this.inClass()) {
        this.dispatch({
          type: 'connectionLost',
          code: 'E-MEDIA-FAILED',
          detail: `Janus hung up: ${event.reason}`,
        });
      }
    });
    this.janus.remoteCandidate.on(owner, ({ target, candidate }) => {
      if (this.inClass() || this.snapshot.state === 'joining')
        this.page.send({ type: 'candidate', target, candidate });
    });
    this.page.candidate.on(owner, ({ target, candidate }) => {
      if (!this.inClass() && this.snapshot.state !== 'joining') return;
      this.janus
        .trickle(target, candidate ?? null)
        .catch((error: unknown) =>
          this.log.warn(`Can't trickle candidate target=${target}: ${reason(error)}`),
        );
    });
    this.page.connection.on(owner, ({ target, state }) => {
      if (target === 'publisher' && state === 'failed' && this.snapshot.state === 'live') {
        this.dispatch({
          type: 'connectionLost',
          code: 'E-MEDIA-FAILED',
          detail: 'the media connection failed',
        });
      }
    });
    this.page.disconnected.on(owner, () => {
      if (this.snapshot.state === 'live' && !this.stopping) {
        this.dispatch({ type: 'connectionLost', code: 'E-KIOSK-DOWN', detail: 'the kiosk page went away' });
      }
    });
    this.config.changed.on(owner, () => {
      // New Janus settings take effect at the next class: drop the warm link only while idle.
      if (this.snapshot.state === 'idle' || this.snapshot.state === 'error') {
        void this.janus.ensureClosed().then(() => this.keepWarm());
      }
    });
    this.keepWarm();
  }

  /** Leave the room first, while the page and Janus are still there: the teacher sees the box go. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.clock.clearTimeout(this.warmTimer);
    this.clock.clearTimeout(this.hintTimer);
    this.clock.clearTimeout(this.confirmTimer);
    if (this.inClass() || this.snapshot.state === 'joining') {
      this.generation++;
      await this.leaveRoom();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.janus
      .ensureClosed()
      .catch((error: unknown) => this.log.warn(`Can't close Janus: ${reason(error)}`));
  }

  get state(): SessionSnapshot {
    return this.snapshot;
  }

  get currentFeed(): string | undefined {
    return this.feed;
  }

  get currentRoom(): number | undefined {
    return this.room;
  }

  get remoteFeeds(): readonly RemotePublisher[] {
    return this.inClass() ? this.remote : [];
  }

  get joinStep(): JoinStep | undefined {
    return this.snapshot.state === 'joining' ? this.step : undefined;
  }

  get currentHint(): 'holdToEnd' | 'busy' | undefined {
    return this.hint;
  }

  /** Apply an event; returns whether it changed the state or caused an effect. */
  dispatch(event: SessionEvent): boolean {
    const before = this.snapshot;
    const { next, effects } = transition(before, event);
    const changed = next !== before;
    if (changed) {
      this.snapshot = next;
      this.metrics.setState(next.state);
      const why = next.errorCode ? ` code=${next.errorCode}` : '';
      this.log.info(`Changed state from=${before.state} to=${next.state} event=${event.type}${why}`);
    }
    for (const effect of effects) this.run(effect);
    if (changed || effects.length > 0) this.changed.emit(this.snapshot);
    return changed || effects.length > 0;
  }

  private run(effect: SessionEffect): void {
    switch (effect.type) {
      case 'join':
        void this.join();
        return;
      case 'leave':
        void this.leave();
        return;
      case 'rejoin':
        this.metrics.reconnects.inc();
        void this.rejoin();
        return;
      case 'startSelfTest':
        this.selfTestRequested.emit();
        return;
      case 'showHint':
        this.showHint(effect.hint);
        return;
    }
  }

  private inClass(): boolean {
    return this.snapshot.state === 'live' || this.snapshot.state === 'reconnecting';
  }

  private showHint(hint: 'holdToEnd' | 'busy'): void {
    this.hint = hint;
    this.clock.clearTimeout(this.hintTimer);
    this.hintTimer = this.clock.setTimeout(() => {
      this.hint = undefined;
      this.changed.emit(this.snapshot);
    }, 4000);
  }

  private async join(): Promise<void> {
    const generation = ++this.generation;
    this.joinStartedAt = this.clock.now();
    const config = this.config.current;
    if (this.location.url === undefined || this.location.room === undefined) {
      this.metrics.joins.inc({ result: 'E-NOT-CONFIGURED' });
      this.dispatch({ type: 'joinFailed', code: 'E-NOT-CONFIGURED', detail: 'no Janus URL or room yet' });
      return;
    }
    try {
      await this.withTimeout(this.connectAndPublish(generation), config.session.joinTimeoutMs);
      this.check(generation);
      this.metrics.joins.inc({ result: 'ok' });
      this.metrics.joinSeconds.observe((this.clock.now() - this.joinStartedAt) / 1000);
      this.dispatch({ type: 'joined' });
      this.log.info(
        `Joined room room=${this.room} feed=${this.feed} ms=${this.clock.now() - this.joinStartedAt}`,
      );
      this.syncSubscription();
      this.confirmNodeLater(generation);
    } catch (error) {
      if (error instanceof SupersededError || generation !== this.generation) return;
      const code = codeOf(error);
      this.log.warn(`Can't join room room=${this.location.room}: ${code} ${reason(error)}`);
      this.metrics.joins.inc({ result: code });
      this.generation++;
      await this.dropMedia();
      this.dispatch({ type: 'joinFailed', code, detail: reason(error) });
      // Keep trying to reach Janus in the background, so the box is ready when it is back.
      if (code === 'E-JANUS-UNREACHABLE' || code === 'E-JANUS-REFUSED') {
        this.health.set('server', { status: 'missing', code, detail: reason(error) });
      }
      this.keepWarm();
    }
  }

  private async connectAndPublish(generation: number): Promise<void> {
    const config = this.config.current;
    const room = this.location.room;
    if (room === undefined) throw new JanusError('E-ROOM-MISSING', 'no room configured');
    this.setStep('server');
    await this.janus.ensureConnected();
    this.health.set('server', { status: 'ok' });
    this.check(generation);
    this.setStep('publish');
    await this.pageConnected();
    this.check(generation);
    const camera = this.health.get('camera');
    // A rejoin follows a lost connection: the network may have changed since the page gathered the
    // candidates of its prepared offer (a cut link leaves it with none that work), so it makes a new one.
    // The page may still be preparing (its camera opening, its first offer) when the press comes: it
    // has the join's whole time limit for that, not a shorter one of its own that failed a press in
    // the first seconds after start-up with E-KIOSK-DOWN.
    const offer = await this.page.requestPublisherOffer(
      { audio: true, video: camera.status === 'ok', fresh: this.snapshot.state === 'reconnecting' },
      config.session.joinTimeoutMs,
    );
    this.check(generation);
    const result = await this.janus.publish({
      room,
      display: config.device.displayName,
      pin: config.janus.pin,
      token: config.janus.token,
      bitrateKbps: config.janus.bitrateKbps,
      offer,
    });
    this.check(generation);
    this.page.send({ type: 'publisher.answer', jsep: { type: 'answer', sdp: result.answer.sdp } });
    this.feed = result.feed;
    this.room = room;
    this.remote = result.publishers;
    this.metrics.remoteFeeds.set(this.remote.length);
  }

  /**
   * A press in the seconds before the kiosk page is up (the box starting, the browser relaunched) waits
   * for it, within the join's time limit, instead of failing at once with E-KIOSK-DOWN.
   */
  private async pageConnected(): Promise<void> {
    if (this.page.isConnected()) return;
    this.log.info('Waiting for the kiosk page before publishing');
    await new Promise<void>((resolve) => {
      const off = this.page.connected.on(`${ClassSessionService.name}.join`, () => {
        off();
        resolve();
      });
    });
  }

  private async leave(): Promise<void> {
    const generation = ++this.generation;
    await this.leaveRoom();
    if (generation !== this.generation) return;
    this.dispatch({ type: 'left' });
    this.log.info('Left room');
    this.keepWarm();
  }

  private async leaveRoom(): Promise<void> {
    await this.dropMedia();
    await this.janus
      .leave()
      .catch((error: unknown) => this.log.warn(`Can't leave room cleanly: ${reason(error)}`));
    this.feed = undefined;
    this.room = undefined;
    this.remote = [];
    this.metrics.remoteFeeds.set(0);
  }

  private async dropMedia(): Promise<void> {
    this.page.send({ type: 'publisher.close' });
    this.page.send({ type: 'subscriber.close' });
  }

  private async rejoin(): Promise<void> {
    const generation = ++this.generation;
    this.rejoinBackoff.reset();
    await this.dropMedia();
    // The old publisher may still be in the room (a crashed kiosk): leave it, so the rejoin is clean.
    await this.janus
      .leave()
      .catch((error: unknown) => this.log.debug(`Left old publisher without a reply: ${reason(error)}`));
    while (generation === this.generation && this.snapshot.state === 'reconnecting' && !this.stopping) {
      // Janus is gone, not just the page: the class may have moved to another media node (issue 19).
      if (!this.janus.isConnected() && (await this.location.relocate()) !== 'same') {
        if (generation !== this.generation) return;
        this.dispatch({
          type: 'connectionLost',
          code: 'E-NODE-MOVED',
          detail: `the class moves to ${this.location.url}`,
        });
        await this.janus.ensureClosed().catch(() => undefined);
      }
      if (generation !== this.generation || this.stopping) return;
      try {
        await this.withTimeout(this.connectAndPublish(generation), this.config.current.session.joinTimeoutMs);
        this.check(generation);
        this.dispatch({ type: 'rejoined' });
        this.log.info(
          `Rejoined room room=${this.room} feed=${this.feed} attempts=${this.rejoinBackoff.attempts + 1}`,
        );
        this.syncSubscription();
        this.confirmNodeLater(generation);
        return;
      } catch (error) {
        if (error instanceof SupersededError || generation !== this.generation) return;
        const code = codeOf(error);
        if (code === 'E-JANUS-UNREACHABLE')
          this.health.set('server', { status: 'missing', code, detail: reason(error) });
        this.dispatch({
          type: 'connectionLost',
          code: code === 'E-JOIN-TIMEOUT' ? 'E-CONNECTION-LOST' : code,
          detail: reason(error),
        });
        const delay = this.rejoinBackoff.next();
        this.log.warn(`Can't rejoin room yet: ${code} ${reason(error)}; retrying in ${delay} ms`);
        if (code !== 'E-KIOSK-DOWN') await this.janus.ensureClosed().catch(() => undefined);
        await this.clock.sleep(delay);
      }
    }
  }

  /**
   * In class on a fallback node taken without the fleet (issue 19): ask the fleet every few seconds
   * until it answers, and move if it has the class elsewhere, so a class never stays split over two nodes.
   */
  private confirmNodeLater(generation: number): void {
    this.clock.clearTimeout(this.confirmTimer);
    if (!this.location.unconfirmed) return;
    this.confirmTimer = this.clock.setTimeout(() => {
      void (async () => {
        if (generation !== this.generation || this.snapshot.state !== 'live') return;
        if (!(await this.location.confirm())) return this.confirmNodeLater(generation);
        if (generation !== this.generation || this.snapshot.state !== 'live') return;
        // The link is to the node the class left: close it, so the rejoin connects where the class is.
        await this.janus.ensureClosed().catch(() => undefined);
        this.dispatch({
          type: 'connectionLost',
          code: 'E-NODE-MOVED',
          detail: `the class is on ${this.location.url}`,
        });
      })();
    }, CONFIRM_NODE_EVERY_MS);
  }

  private onConnectionLost(error: JanusError): void {
    this.health.set('server', { status: 'missing', code: 'E-JANUS-UNREACHABLE', detail: error.message });
    if (this.inClass()) {
      this.dispatch({ type: 'connectionLost', code: 'E-CONNECTION-LOST', detail: error.message });
    } else if (this.snapshot.state === 'idle' || this.snapshot.state === 'error') {
      this.keepWarm();
    }
  }

  /** While idle, keep the Janus session and publisher handle attached; retry with backoff. */
  private keepWarm(): void {
    this.clock.clearTimeout(this.warmTimer);
    if (this.stopping || this.location.url === undefined) return;
    const attempt = async (): Promise<void> => {
      if (this.stopping || this.inClass() || this.snapshot.state === 'joining') return;
      try {
        const wasDown = this.health.get('server').status !== 'ok';
        await this.janus.ensureConnected();
        this.warmBackoff.reset();
        this.health.set('server', { status: 'ok' });
        // Janus is back after a loss: the network may have changed under the offer the page prepared.
        if (wasDown) this.page.send({ type: 'publisher.close' });
      } catch (error) {
        this.health.set('server', { status: 'missing', code: codeOf(error), detail: reason(error) });
        // An idle box follows its class too, so the next press joins where the class is now.
        if (codeOf(error) === 'E-JANUS-UNREACHABLE') await this.location.relocate();
        const delay = this.warmBackoff.next();
        this.warmTimer = this.clock.setTimeout(() => void attempt(), delay);
      }
    };
    void attempt();
  }

  private onPublishers(list: readonly RemotePublisher[]): void {
    if (!this.inClass()) return;
    const before = this.remote.map((p) => p.feed).join(',');
    this.remote = list;
    this.metrics.remoteFeeds.set(list.length);
    if (before !== list.map((p) => p.feed).join(',')) {
      this.log.info(`Updated publishers count=${list.length}`);
      this.page.send({
        type: 'subscriber.feeds',
        feeds: list.map(({ feed, display }) => ({ feed, display })),
      });
      this.changed.emit(this.snapshot);
    }
    if (this.snapshot.state === 'live') this.syncSubscription();
  }

  /** Bring the one multistream subscription in line with `remote`; serialised. */
  private syncSubscription(): void {
    const generation = this.generation;
    this.enqueueSubscription(async () => {
      if (generation !== this.generation || this.snapshot.state !== 'live' || this.room === undefined) return;
      const { pin, token } = this.config.current.janus;
      const offer = await this.janus.subscribe(this.room, this.remote, { pin, token });
      if (offer) await this.answerSubscriber(generation, offer);
    });
  }

  /** One subscription negotiation at a time: the page's peer connection takes one offer after another. */
  private enqueueSubscription(work: () => Promise<void>): void {
    this.subscriptionChain = this.subscriptionChain
      .then(work)
      .catch((error: unknown) => this.log.warn(`Can't subscribe to publishers: ${reason(error)}`));
  }

  private async answerSubscriber(generation: number, offer: SubscriberOffer): Promise<void> {
    if (generation !== this.generation || !this.inClass()) return;
    this.page.send({ type: 'subscriber.streams', streams: offer.streams });
    this.subscriptionChanged.emit(offer.streams);
    const answer = await this.page.requestSubscriberAnswer(offer.offer);
    if (generation !== this.generation) return;
    await this.janus.startSubscriber(answer);
  }

  private setStep(step: JoinStep): void {
    this.step = step;
    this.changed.emit(this.snapshot);
  }

  private check(generation: number): void {
    if (generation !== this.generation) throw new SupersededError();
  }

  private async withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
    let timer: TimerHandle | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(() => reject(new JoinTimeoutError(ms)), ms);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      this.clock.clearTimeout(timer);
    }
  }
}

function codeOf(error: unknown): FaultCode {
  return error instanceof JanusError || error instanceof KioskPageError ? error.code : 'E-INTERNAL';
}
