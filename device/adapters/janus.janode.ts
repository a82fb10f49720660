import { Injectable } from '@nestjs/common';
import Janode, { type Connection, type Session } from 'janode';
import VideoRoomPlugin, {
  type JanusStreamInfo,
  type PublisherInfo,
  type VideoRoomHandle,
} from 'janode/plugins/videoroom';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { ClassLocationService } from '../services/class-location.service.js';
import { ConfigService } from '../services/config.service.js';
import {
  JanusError,
  JanusPort,
  type IceCandidate,
  type Jsep,
  type PublishRequest,
  type PublishResult,
  type RemotePublisher,
  type SubscribedStream,
  type SubscriberOffer,
  type SubscriptionVideoSetting,
} from '../ports/janus.port.js';

// janode logs to the console in its own format; our logs are JSON lines, so it stays quiet.
Janode.Logger.setLevel('none');

const KEEPALIVE_SECS = 15;

interface Link {
  readonly connection: Connection;
  readonly session: Session;
  publisher: VideoRoomHandle;
  subscriber?: VideoRoomHandle;
}

/**
 * The central Janus videoroom through janode 1.8.0. janode never reconnects by itself: when the
 * connection or the session dies this adapter forgets the link and reports `connectionLost`;
 * the next `ensureConnected` rebuilds connection → session → handle.
 */
@Injectable()
export class JanodeJanus extends JanusPort {
  private readonly log = createLogger(JanodeJanus.name);
  private link: Link | undefined;
  private connecting: Promise<Link> | undefined;
  private ownFeed: string | undefined;
  private readonly publishers = new Map<string, RemotePublisher>();
  /** Feeds the multistream subscription currently carries, as Janus last reported. */
  private subscribed = new Set<string>();

  constructor(
    private readonly config: ConfigService,
    // Which media node: the config's, or where the class moved (issue 19).
    private readonly location: ClassLocationService,
  ) {
    super();
  }

  isConnected(): boolean {
    return this.link !== undefined;
  }

  async ensureConnected(): Promise<void> {
    await this.ensureLink();
  }

  private async ensureLink(): Promise<Link> {
    if (this.link) return this.link;
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<Link> {
    const { apiSecret, token, connectTimeoutMs } = this.config.current.janus;
    const url = this.location.url;
    if (url === undefined) throw new JanusError('E-JANUS-UNREACHABLE', 'no Janus URL configured');
    let connection: Connection;
    try {
      connection = await Janode.connect({
        address: { url, apisecret: apiSecret, token },
        max_retries: 0,
        retry_time_secs: 1,
        ws_options: { handshakeTimeout: connectTimeoutMs },
      });
    } catch (error) {
      throw new JanusError('E-JANUS-UNREACHABLE', `can't connect to ${url}: ${reason(error)}`, {
        cause: error,
      });
    }
    let session: Session;
    try {
      session = await connection.create(KEEPALIVE_SECS);
    } catch (error) {
      await connection.close().catch(() => undefined);
      const refused = /^(403|454)\b/.test(reason(error));
      throw new JanusError(
        refused ? 'E-JANUS-REFUSED' : 'E-JANUS-UNREACHABLE',
        `can't create a Janus session: ${reason(error)}`,
        { cause: error },
      );
    }
    const publisher = await this.attach(session).catch(async (error: unknown) => {
      await connection.close().catch(() => undefined);
      throw error;
    });
    const link: Link = { connection, session, publisher };
    const lost = (why: string) => () => this.onLinkLost(link, why);
    connection.once(Janode.EVENT.CONNECTION_CLOSED, lost('the connection to Janus closed'));
    connection.once(Janode.EVENT.CONNECTION_ERROR, lost('the connection to Janus failed'));
    session.once(Janode.EVENT.SESSION_DESTROYED, lost('Janus destroyed the session'));
    this.link = link;
    this.watchPublisher(link, publisher);
    this.log.info(`Connected to Janus url=${url} session=${session.id}`);
    return link;
  }

  private async attach(session: Session): Promise<VideoRoomHandle> {
    try {
      return await session.attach(VideoRoomPlugin);
    } catch (error) {
      throw new JanusError('E-JANUS-REFUSED', `can't attach the videoroom plugin: ${reason(error)}`, {
        cause: error,
      });
    }
  }

  private onLinkLost(link: Link, why: string): void {
    if (this.link !== link) return;
    this.link = undefined;
    this.forgetRoom();
    this.log.warn(`Lost Janus: ${why}`);
    void link.connection.close().catch(() => undefined);
    this.connectionLost.emit(new JanusError('E-CONNECTION-LOST', why));
  }

  private forgetRoom(): void {
    this.ownFeed = undefined;
    this.publishers.clear();
    this.subscribed.clear();
  }

  private watchPublisher(link: Link, handle: VideoRoomHandle): void {
    const E = VideoRoomPlugin.EVENT;
    const current = () => this.link === link && link.publisher === handle;
    handle.on(E.VIDEOROOM_PUB_LIST, (data: { publishers?: PublisherInfo[] }) => {
      if (!current()) return;
      for (const p of data.publishers ?? []) this.addPublisher(p);
      this.emitPublishers();
    });
    const gone = (data: { feed?: number | string }) => {
      if (!current() || data.feed === undefined) return;
      if (this.publishers.delete(String(data.feed))) this.emitPublishers();
    };
    handle.on(E.VIDEOROOM_UNPUBLISHED, gone);
    handle.on(E.VIDEOROOM_LEAVING, gone);
    handle.on(E.VIDEOROOM_SLOWLINK, (data: { bitrate?: number }) => {
      if (current())
        this.mediaEvent.emit({
          kind: 'slowlink',
          target: 'publisher',
          uplink: true,
          lost: data.bitrate ?? 0,
        });
    });
    handle.on(E.VIDEOROOM_KICKED, () => {
      if (current())
        this.mediaEvent.emit({ kind: 'hangup', target: 'publisher', reason: 'kicked from the room' });
    });
    handle.on(E.VIDEOROOM_DESTROYED, () => {
      if (current())
        this.mediaEvent.emit({ kind: 'hangup', target: 'publisher', reason: 'the room was destroyed' });
    });
    this.watchMedia(handle, 'publisher', current);
  }

  private watchMedia(
    handle: VideoRoomHandle,
    target: 'publisher' | 'subscriber',
    current: () => boolean,
  ): void {
    handle.on(Janode.EVENT.HANDLE_WEBRTCUP, () => {
      if (current()) this.mediaEvent.emit({ kind: 'webrtcup', target });
    });
    handle.on(Janode.EVENT.HANDLE_HANGUP, (data: { reason?: string }) => {
      if (current()) this.mediaEvent.emit({ kind: 'hangup', target, reason: data.reason ?? 'hangup' });
    });
    handle.on(Janode.EVENT.HANDLE_ICE_FAILED, () => {
      if (current()) this.mediaEvent.emit({ kind: 'hangup', target, reason: 'ICE failed' });
    });
    handle.on(Janode.EVENT.HANDLE_SLOWLINK, (data: { uplink?: boolean; lost?: number; mid?: string }) => {
      if (current())
        this.mediaEvent.emit({
          kind: 'slowlink',
          target,
          uplink: data.uplink ?? false,
          lost: data.lost ?? 0,
          ...(typeof data.mid === 'string' ? { mid: data.mid } : {}),
        });
    });
    handle.on(
      Janode.EVENT.HANDLE_TRICKLE,
      (data: { completed?: boolean; candidate?: string; sdpMid?: string; sdpMLineIndex?: number }) => {
        if (!current()) return;
        const candidate =
          data.completed || data.candidate === undefined
            ? null
            : {
                candidate: data.candidate,
                sdpMid: data.sdpMid ?? null,
                sdpMLineIndex: data.sdpMLineIndex ?? null,
              };
        this.remoteCandidate.emit({ target, candidate });
      },
    );
    handle.on(Janode.EVENT.HANDLE_MEDIA, (data: { type?: string; receiving?: boolean }) => {
      if (current())
        this.mediaEvent.emit({
          kind: 'media',
          target,
          type: data.type ?? '',
          receiving: data.receiving ?? false,
        });
    });
  }

  private addPublisher(p: PublisherInfo): void {
    const feed = String(p.feed);
    if (feed === this.ownFeed) return;
    const streams = (p.streams ?? [])
      .filter((s) => !s.disabled)
      .map((s) => ({ mid: String(s.mid), type: s.type }));
    this.publishers.set(feed, { feed, display: p.display ?? feed, streams });
  }

  private emitPublishers(): void {
    this.publishersChanged.emit([...this.publishers.values()]);
  }

  async publish(request: PublishRequest): Promise<PublishResult> {
    const link = await this.ensureLink();
    this.forgetRoom();
    let data;
    try {
      data = await link.publisher.joinConfigurePublisher({
        room: request.room,
        display: request.display,
        pin: request.pin,
        token: request.token,
        audio: true,
        video: true,
        bitrate: request.bitrateKbps * 1000,
        jsep: { type: request.offer.type, sdp: request.offer.sdp },
      });
    } catch (error) {
      throw roomError(error, request.room);
    }
    if (data.jsep?.type !== 'answer')
      throw new JanusError('E-MEDIA-FAILED', 'Janus joined the room without an SDP answer');
    this.ownFeed = String(data.feed);
    for (const p of data.publishers ?? []) this.addPublisher(p);
    return {
      feed: this.ownFeed,
      answer: { type: 'answer', sdp: data.jsep.sdp },
      publishers: [...this.publishers.values()],
    };
  }

  async trickle(target: 'publisher' | 'subscriber', candidate: IceCandidate | null): Promise<void> {
    const link = this.link;
    const handle = target === 'publisher' ? link?.publisher : link?.subscriber;
    if (!handle) return;
    if (candidate === null || candidate.candidate === '') await handle.trickleComplete();
    else
      await handle.trickle({
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid,
        sdpMLineIndex: candidate.sdpMLineIndex,
      });
  }

  async subscribe(
    room: number,
    feeds: readonly RemotePublisher[],
    access: { pin?: string; token?: string },
  ): Promise<SubscriberOffer | undefined> {
    const link = await this.ensureLink();
    const wanted = new Set(feeds.filter((f) => f.streams.some((s) => s.type !== 'data')).map((f) => f.feed));
    const add = [...wanted].filter((f) => !this.subscribed.has(f));
    const remove = [...this.subscribed].filter((f) => !wanted.has(f));
    if (add.length === 0 && remove.length === 0) return undefined;
    if (!link.subscriber) {
      if (add.length === 0) return undefined;
      const handle = await this.attach(link.session);
      link.subscriber = handle;
      this.watchSubscriber(link, handle);
      let data;
      try {
        data = await handle.joinSubscriber({
          room,
          streams: add.map((feed) => ({ feed: numericFeed(feed) })),
          use_msid: true,
          autoupdate: true,
          pin: access.pin,
          token: access.token,
        });
      } catch (error) {
        link.subscriber = undefined;
        await handle.detach().catch(() => undefined);
        if (this.forgetGoneFeed(error)) return undefined;
        throw roomError(error, room);
      }
      return this.offerFrom(data.streams ?? [], data.jsep);
    }
    let data;
    try {
      // Janus refuses an empty list (430), so only the non-empty side is sent.
      data = await link.subscriber.update({
        ...(add.length > 0 ? { subscribe: add.map((feed) => ({ feed: numericFeed(feed) })) } : {}),
        ...(remove.length > 0 ? { unsubscribe: remove.map((feed) => ({ feed: numericFeed(feed) })) } : {}),
      });
    } catch (error) {
      if (this.forgetGoneFeed(error)) return undefined;
      throw roomError(error, room);
    }
    return this.offerFrom(data.streams ?? [], data.jsep);
  }

  /**
   * A subscription Janus refused because one of its feeds is gone (428, "No such feed (<id>)"): the room
   * told the box of that feed but not that it went. Janus pushes a publisher's "joined" answer only after
   * the SDP work, so a feed removed meanwhile (the fleet taking a dead node's forwarded twin away as the
   * box moves in) is announced as leaving before the list that still names it, and the box kept it.
   * Forget it and announce the list again: the caller subscribes to the others. False when the error is
   * another, or names a feed the box does not hold (then it is not this race, and nothing would change).
   */
  private forgetGoneFeed(error: unknown): boolean {
    const gone = /\bNo such feed \((\d+)\)/.exec(reason(error))?.[1];
    if (gone === undefined || !this.publishers.delete(gone)) return false;
    this.log.warn(`Forgot a publisher the room no longer has feed=${gone}`);
    this.emitPublishers();
    return true;
  }

  private watchSubscriber(link: Link, handle: VideoRoomHandle): void {
    const current = () => this.link === link && link.subscriber === handle;
    // With autoupdate Janus renegotiates by itself when a subscribed publisher leaves.
    handle.on(
      VideoRoomPlugin.EVENT.VIDEOROOM_UPDATED,
      (data: { streams?: JanusStreamInfo[]; jsep?: Jsep }) => {
        if (!current()) return;
        const offer = this.offerFrom(data.streams ?? [], data.jsep);
        if (offer) this.subscriberOffer.emit(offer);
      },
    );
    this.watchMedia(handle, 'subscriber', current);
  }

  private offerFrom(streams: JanusStreamInfo[], jsep: Jsep | undefined): SubscriberOffer | undefined {
    const active: SubscribedStream[] = streams
      .filter((s) => s.feed_id !== undefined && s.active !== false && s.type !== 'data')
      .map((s) => ({
        mid: String(s.mid),
        feed: String(s.feed_id),
        display: s.feed_display ?? String(s.feed_id),
        type: s.type,
      }));
    this.subscribed = new Set(active.map((s) => s.feed));
    if (jsep?.type !== 'offer') return undefined;
    return { offer: { type: 'offer', sdp: jsep.sdp }, streams: active };
  }

  async startSubscriber(answer: Jsep): Promise<void> {
    const handle = this.link?.subscriber;
    if (!handle) throw new JanusError('E-CONNECTION-LOST', 'no subscription to start');
    await handle.start({ jsep: { type: 'answer', sdp: answer.sdp } });
  }

  async configureSubscription(videos: readonly SubscriptionVideoSetting[]): Promise<void> {
    const handle = this.link?.subscriber;
    if (!handle) throw new JanusError('E-CONNECTION-LOST', 'no subscription to configure');
    if (videos.length === 0) return;
    try {
      await handle.configure({
        streams: videos.map(({ mid, send, substream, temporal }) => ({ mid, send, substream, temporal })),
      });
    } catch (error) {
      throw new JanusError('E-MEDIA-FAILED', `Janus refused the subscription's layers: ${reason(error)}`, {
        cause: error,
      });
    }
  }

  async leave(): Promise<void> {
    const link = this.link;
    this.forgetRoom();
    if (!link) return;
    const { publisher, subscriber } = link;
    link.subscriber = undefined;
    await Promise.all([
      publisher.leave().catch((error: unknown) => this.log.debug(`Left without a reply: ${reason(error)}`)),
      subscriber?.detach().catch(() => undefined),
    ]);
    await publisher.detach().catch(() => undefined);
    // Keep the next class one join away: a fresh publisher handle on the same session.
    if (this.link === link) {
      try {
        link.publisher = await this.attach(link.session);
        this.watchPublisher(link, link.publisher);
      } catch (error) {
        this.onLinkLost(link, `can't attach a fresh handle: ${reason(error)}`);
      }
    }
  }

  async ensureClosed(): Promise<void> {
    const link = this.link;
    this.link = undefined;
    this.forgetRoom();
    if (!link) return;
    await link.session.destroy().catch(() => undefined);
    await link.connection.close().catch(() => undefined);
    this.log.info('Closed Janus connection');
  }
}

/** Janus feed ids are numbers unless the server uses string ids. */
function numericFeed(feed: string): number | string {
  return /^\d+$/.test(feed) ? Number(feed) : feed;
}

/** Turn a videoroom error ("426 No such room") into the box's codes. */
function roomError(error: unknown, room: number): JanusError {
  const text = reason(error);
  const code = Number((error as { _code?: number })._code ?? /^(\d{3})\b/.exec(text)?.[1]);
  switch (code) {
    case 426:
      return new JanusError('E-ROOM-MISSING', `room ${room} does not exist on the server`, { cause: error });
    case 433:
      return new JanusError('E-ROOM-PIN', `room ${room} refused the pin or token`, { cause: error });
    case 432:
      return new JanusError('E-ROOM-FULL', `room ${room} has no free publisher seat`, { cause: error });
    case 403:
    case 454:
      return new JanusError('E-JANUS-REFUSED', `Janus refused the request: ${text}`, { cause: error });
    default:
      return new JanusError('E-MEDIA-FAILED', `Janus could not join room ${room}: ${text}`, { cause: error });
  }
}
