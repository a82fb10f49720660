import { Signal } from '../../common/signal.js';
import { ClassboxError } from '../../common/errors.js';

export interface Jsep {
  readonly type: 'offer' | 'answer';
  readonly sdp: string;
}

/** A trickled ICE candidate as RTCIceCandidateInit, or `null` for end-of-candidates. */
export interface IceCandidate {
  readonly candidate: string;
  readonly sdpMid?: string | null;
  readonly sdpMLineIndex?: number | null;
}

export interface RemoteStream {
  readonly mid: string;
  readonly type: 'audio' | 'video' | 'data';
}

export interface RemotePublisher {
  /** Janus feed id, as a string (Janus may use string ids). */
  readonly feed: string;
  readonly display: string;
  readonly streams: readonly RemoteStream[];
}

export interface PublishRequest {
  readonly room: number;
  readonly display: string;
  readonly pin?: string;
  readonly token?: string;
  readonly bitrateKbps: number;
  readonly offer: Jsep;
}

export interface PublishResult {
  readonly feed: string;
  readonly answer: Jsep;
  /** The other publishers already in the room. */
  readonly publishers: readonly RemotePublisher[];
}

/** One stream of the multistream subscription, as offered by Janus. */
export interface SubscribedStream {
  readonly mid: string;
  readonly feed: string;
  readonly display: string;
  readonly type: 'audio' | 'video' | 'data';
}

export interface SubscriberOffer {
  readonly offer: Jsep;
  readonly streams: readonly SubscribedStream[];
}

/** How Janus relays one video m-line of the subscription (its subscriber `configure`, per mid). */
export interface SubscriptionVideoSetting {
  readonly mid: string;
  readonly send: boolean;
  /** Simulcast substream (0 the smallest) and temporal layers (0 the base) to relay. */
  readonly substream: 0 | 1 | 2;
  readonly temporal: 0 | 1 | 2;
}

export type JanusErrorCode =
  | 'E-JANUS-UNREACHABLE'
  | 'E-JANUS-REFUSED'
  | 'E-ROOM-MISSING'
  | 'E-ROOM-PIN'
  | 'E-ROOM-FULL'
  | 'E-JOIN-TIMEOUT'
  | 'E-MEDIA-FAILED'
  | 'E-CONNECTION-LOST';

export class JanusError extends ClassboxError<JanusErrorCode> {}

export type JanusMediaEvent =
  | { kind: 'webrtcup'; target: 'publisher' | 'subscriber' }
  | { kind: 'hangup'; target: 'publisher' | 'subscriber'; reason: string }
  | {
      kind: 'slowlink';
      target: 'publisher' | 'subscriber';
      uplink: boolean;
      lost: number;
      /** The m-line it concerns, when Janus names one. */
      mid?: string;
    }
  | { kind: 'media'; target: 'publisher' | 'subscriber'; type: string; receiving: boolean };

/**
 * The central Janus videoroom, in the box's own terms. Secrets (API secret, pin, token)
 * are passed in here and never leave the daemon.
 */
export abstract class JanusPort {
  /** The other publishers in the room changed (full list, the box itself excluded). */
  readonly publishersChanged = new Signal<readonly RemotePublisher[]>('janus.publishersChanged');
  /** The connection or session died; handles are gone and must be rebuilt. */
  readonly connectionLost = new Signal<JanusError>('janus.connectionLost');
  readonly mediaEvent = new Signal<JanusMediaEvent>('janus.mediaEvent');
  /** Janus trickles its own candidates when its `full_trickle` is on; `null` ends them. */
  readonly remoteCandidate = new Signal<{
    target: 'publisher' | 'subscriber';
    candidate: IceCandidate | null;
  }>('janus.remoteCandidate');
  /** Janus sent the subscriber a new offer by itself (e.g. a publisher left). */
  readonly subscriberOffer = new Signal<SubscriberOffer>('janus.subscriberOffer');

  /** Connection → session → publisher handle, kept while idle so a press costs only join + configure. */
  abstract ensureConnected(): Promise<void>;
  abstract isConnected(): boolean;
  abstract publish(request: PublishRequest): Promise<PublishResult>;
  abstract trickle(target: 'publisher' | 'subscriber', candidate: IceCandidate | null): Promise<void>;
  /** Make the subscription exactly `feeds`; returns Janus's offer when the page must answer. */
  abstract subscribe(
    room: number,
    feeds: readonly RemotePublisher[],
    access: { pin?: string; token?: string },
  ): Promise<SubscriberOffer | undefined>;
  abstract startSubscriber(answer: Jsep): Promise<void>;
  /** Set which videos of the subscription Janus relays, and at which layer; no renegotiation. */
  abstract configureSubscription(videos: readonly SubscriptionVideoSetting[]): Promise<void>;
  /** Leave the room; the session and a fresh publisher handle stay attached for the next class. */
  abstract leave(): Promise<void>;
  abstract ensureClosed(): Promise<void>;
}
