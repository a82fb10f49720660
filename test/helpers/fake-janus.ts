import {
  JanusPort,
  type IceCandidate,
  type Jsep,
  type PublishRequest,
  type PublishResult,
  type RemotePublisher,
  type SubscriberOffer,
  type SubscriptionVideoSetting,
} from '../../device/ports/janus.port.js';

/**
 * A stand-in for the central Janus behind the same port as the janode adapter: always reachable,
 * answers every publish, and records what the box published, to which room, under which name.
 */
export class FakeJanus extends JanusPort {
  readonly publishes: PublishRequest[] = [];
  private connected = false;

  async ensureConnected(): Promise<void> {
    this.connected = true;
  }
  isConnected(): boolean {
    return this.connected;
  }
  async publish(request: PublishRequest): Promise<PublishResult> {
    this.publishes.push(request);
    return { feed: '101', answer: { type: 'answer', sdp: 'v=0\r\n' }, publishers: [] };
  }
  async trickle(_target: 'publisher' | 'subscriber', _candidate: IceCandidate | null): Promise<void> {}
  async subscribe(_room: number, _feeds: readonly RemotePublisher[]): Promise<SubscriberOffer | undefined> {
    return undefined;
  }
  async startSubscriber(_answer: Jsep): Promise<void> {}
  /** What the box asked Janus to relay of its subscription, latest last. */
  readonly subscriptionSettings: (readonly SubscriptionVideoSetting[])[] = [];
  async configureSubscription(videos: readonly SubscriptionVideoSetting[]): Promise<void> {
    this.subscriptionSettings.push(videos);
  }
  async leave(): Promise<void> {}
  async ensureClosed(): Promise<void> {
    this.connected = false;
  }
}
