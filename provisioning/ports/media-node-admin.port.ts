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
}
