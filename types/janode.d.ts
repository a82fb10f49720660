// janode 1.8.0 ships no type definitions; this declares the part classbox uses.
declare module 'janode' {
  import { EventEmitter } from 'node:events';

  export interface ServerAddress {
    url: string;
    apisecret?: string;
    token?: string;
  }
  export interface JanodeConfig {
    address: ServerAddress | ServerAddress[];
    retry_time_secs?: number;
    max_retries?: number;
    is_admin?: boolean;
    ws_options?: { handshakeTimeout?: number; [key: string]: unknown };
  }
  export interface PluginDescriptor<H> {
    id: string;
    Handle: new (...args: never[]) => H;
    EVENT: Record<string, string>;
  }
  export interface Jsep {
    type: 'offer' | 'answer';
    sdp: string;
    e2ee?: boolean;
  }
  export interface Connection extends EventEmitter {
    create(kaIntervalSecs?: number): Promise<Session>;
    close(): Promise<void>;
  }
  export interface Session extends EventEmitter {
    id: number;
    attach<H>(plugin: PluginDescriptor<H>): Promise<H>;
    destroy(): Promise<void>;
  }
  export interface Handle extends EventEmitter {
    id: number;
    trickle(candidate: {
      candidate: string;
      sdpMid?: string | null;
      sdpMLineIndex?: number | null;
    }): Promise<void>;
    trickleComplete(): Promise<void>;
    hangup(): Promise<void>;
    detach(): Promise<void>;
  }

  const Janode: {
    connect(config: JanodeConfig): Promise<Connection>;
    Logger: { setLevel(level: 'debug' | 'verb' | 'info' | 'warn' | 'error' | 'none'): string };
    EVENT: {
      CONNECTION_CLOSED: 'connection_closed';
      SESSION_DESTROYED: 'session_destroyed';
      HANDLE_DETACHED: 'handle_detached';
      HANDLE_ICE_FAILED: 'handle_ice_failed';
      HANDLE_HANGUP: 'handle_hangup';
      HANDLE_MEDIA: 'handle_media';
      HANDLE_WEBRTCUP: 'handle_webrtcup';
      HANDLE_SLOWLINK: 'handle_slowlink';
      HANDLE_TRICKLE: 'handle_trickle';
      CONNECTION_ERROR: 'connection_error';
    };
  };
  export default Janode;
}

declare module 'janode/plugins/videoroom' {
  import type { Handle, Jsep, PluginDescriptor } from 'janode';

  export interface JanusStreamInfo {
    type: 'audio' | 'video' | 'data';
    mindex: number;
    mid: string;
    disabled?: boolean;
    codec?: string;
    description?: string;
    feed_id?: number | string;
    feed_display?: string;
    feed_mid?: string;
    [key: string]: unknown;
  }
  export interface PublisherInfo {
    feed: number | string;
    display?: string;
    streams?: JanusStreamInfo[];
  }
  export interface PubJoinedData {
    room: number | string;
    feed: number | string;
    publishers: PublisherInfo[];
    jsep?: Jsep;
    [key: string]: unknown;
  }
  export interface SubJoinedData {
    room: number | string;
    streams?: JanusStreamInfo[];
    jsep?: Jsep;
  }
  export interface UpdatedData {
    room: number | string;
    streams: JanusStreamInfo[];
    jsep?: Jsep;
  }
  export interface VideoRoomHandle extends Handle {
    joinConfigurePublisher(params: {
      room: number | string;
      feed?: number | string;
      audio?: boolean;
      video?: boolean;
      data?: boolean;
      bitrate?: number;
      display?: string;
      token?: string;
      pin?: string;
      jsep: Jsep;
    }): Promise<PubJoinedData>;
    configure(params: {
      audio?: boolean;
      video?: boolean;
      bitrate?: number;
      restart?: boolean;
      jsep?: Jsep;
      /** A subscriber's per-mid settings (Janus 1.x multistream). */
      streams?: { mid: string; send?: boolean; substream?: number; temporal?: number }[];
    }): Promise<{
      jsep?: Jsep;
      [key: string]: unknown;
    }>;
    joinSubscriber(params: {
      room: number | string;
      streams: { feed: number | string; mid?: string }[];
      autoupdate?: boolean;
      use_msid?: boolean;
      token?: string;
      pin?: string;
    }): Promise<SubJoinedData>;
    update(params: {
      subscribe?: { feed: number | string; mid?: string }[];
      unsubscribe?: { feed: number | string; mid?: string }[];
    }): Promise<UpdatedData>;
    start(params: { jsep: Jsep }): Promise<unknown>;
    leave(): Promise<unknown>;
    exists(params: { room: number | string }): Promise<{ exists: boolean }>;
    create(params: Record<string, unknown>): Promise<unknown>;
    listParticipants(params: {
      room: number | string;
    }): Promise<{ participants: { feed: number | string; display?: string; publisher: boolean }[] }>;
  }
  const VideoRoomPlugin: PluginDescriptor<VideoRoomHandle> & {
    EVENT: {
      VIDEOROOM_PUB_PEER_JOINED: string;
      VIDEOROOM_PUB_LIST: string;
      VIDEOROOM_DESTROYED: string;
      VIDEOROOM_UNPUBLISHED: string;
      VIDEOROOM_LEAVING: string;
      VIDEOROOM_DISPLAY: string;
      VIDEOROOM_CONFIGURED: string;
      VIDEOROOM_SLOWLINK: string;
      VIDEOROOM_TALKING: string;
      VIDEOROOM_KICKED: string;
      VIDEOROOM_UPDATED: string;
      VIDEOROOM_ERROR: string;
    };
  };
  export default VideoRoomPlugin;
}
