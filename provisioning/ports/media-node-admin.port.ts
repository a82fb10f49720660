import { ClassboxError } from '../../common/errors.js';

/** How the fleet reaches a media node's admin API. */
export interface MediaNodeAccess {
  /** e.g. http://10.0.0.5:7088/admin */
  readonly adminUrl: string;
  readonly adminSecret: string | null;
}

/** What one check of a node found. */
export interface MediaNodeLoad {
  readonly sessions: number;
  /** The node's videorooms and how many are in each. */
  readonly rooms: readonly { readonly room: number; readonly participants: number }[];
}

/** A videoroom the fleet creates on a node for a class. */
export interface ClassRoom {
  readonly room: number;
  readonly description: string;
  readonly pin?: string;
  /** Per-publisher cap, bit/s. */
  readonly bitrate: number;
  readonly publishers: number;
  /**
   * Record the teacher here (the room's `rec_dir`, a path on the node; issue 21). The room itself is
   * not recorded (`record: false`): the teacher page asks for its own stream only.
   */
  readonly recDir?: string;
}

/** One m-line of a publisher, as the VideoRoom describes it and as `add_remote_publisher` takes it. */
export interface PublisherStream {
  readonly type: 'audio' | 'video' | 'data';
  readonly mindex: number;
  readonly mid: string;
  /** e.g. opus, vp8; none for data. */
  readonly codec?: string;
  readonly simulcast?: boolean;
  readonly svc?: boolean;
}

/** Someone publishing in a room of a node. */
export interface RoomPublisher {
  readonly id: number;
  readonly display: string;
  /** A remote publisher: another node forwards it here (Janus refuses to forward it on). */
  readonly remote: boolean;
}

/** Where a remote publisher listens for the forwarded RTP (on the node that made it). */
export interface RemotePublisherPorts {
  readonly port: number;
  readonly rtcpPort: number;
}

export type MediaNodeErrorCode =
  /** No answer in time, connection refused, DNS. */
  | 'E-NODE-UNREACHABLE'
  /** Janus answered with an error (a wrong admin secret, a plugin refusal). */
  | 'E-NODE-REFUSED'
  /** Not the Janus admin protocol. */
  | 'E-NODE-BAD-ANSWER';

export class MediaNodeError extends ClassboxError<MediaNodeErrorCode> {}

/** A Janus server's admin API, as the fleet uses it: its load, and the class rooms on it. */
export abstract class MediaNodeAdminPort {
  /** Sessions and rooms; MediaNodeError when the node can't be asked. */
  abstract load(node: MediaNodeAccess): Promise<MediaNodeLoad>;
  /** Create the room unless it exists; true when it was created. */
  abstract ensureRoom(node: MediaNodeAccess, room: ClassRoom): Promise<boolean>;

  // The VideoRoom's remote publishers (Janus's own cascading), for a lecture spread over nodes.

  /** The publishers of `room` (those that have media going), local and remote. */
  abstract publishers(node: MediaNodeAccess, room: number): Promise<RoomPublisher[]>;
  /** The streams of the local publishers of `room`, by publisher id (from the handles' info). */
  abstract publisherStreams(node: MediaNodeAccess, room: number): Promise<Map<number, PublisherStream[]>>;
  /** The `remote_id`s a local publisher is forwarded to (`listremotes`). */
  abstract remotesOf(node: MediaNodeAccess, room: number, publisherId: number): Promise<string[]>;
  /** Make a remote publisher (`add_remote_publisher`) with the origin's id and display; its RTP ports. */
  abstract addRemotePublisher(
    node: MediaNodeAccess,
    room: number,
    publisher: {
      readonly id: number;
      readonly display: string;
      readonly streams: readonly PublisherStream[];
    },
  ): Promise<RemotePublisherPorts>;
  abstract removeRemotePublisher(node: MediaNodeAccess, room: number, publisherId: number): Promise<void>;
  /** Forward a local publisher to a remote publisher made elsewhere (`publish_remotely`). */
  abstract publishRemotely(
    node: MediaNodeAccess,
    room: number,
    forward: {
      readonly publisherId: number;
      readonly remoteId: string;
      readonly host: string;
      readonly ports: RemotePublisherPorts;
    },
  ): Promise<void>;
  abstract unpublishRemotely(
    node: MediaNodeAccess,
    room: number,
    publisherId: number,
    remoteId: string,
  ): Promise<void>;
}
