import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { reason } from '../../common/errors.js';
import {
  MediaNodeAdminPort,
  MediaNodeError,
  type ClassRoom,
  type MediaNodeAccess,
  type MediaNodeLoad,
  type PublisherStream,
  type RemotePublisherPorts,
  type RoomPublisher,
} from '../ports/media-node-admin.port.js';

/** A dead node must be seen within seconds (issue 19); a live one answers the admin API in milliseconds. */
const TIMEOUT_MS = 1500;
const VIDEOROOM = 'janus.plugin.videoroom';
/** The VideoRoom's "room already exists" (JANUS_VIDEOROOM_ERROR_ROOM_EXISTS). */
const ROOM_EXISTS = 427;

const answerSchema = z.looseObject({
  janus: z.string(),
  error: z.object({ code: z.number(), reason: z.string() }).optional(),
});
const sessionsSchema = z.object({ sessions: z.array(z.number()) });
const pluginAnswerSchema = z.object({
  response: z.looseObject({
    videoroom: z.string().optional(),
    error_code: z.number().optional(),
    error: z.string().optional(),
  }),
});
const roomListSchema = z.object({
  response: z.object({
    list: z.array(z.looseObject({ room: z.number(), num_participants: z.number() })),
  }),
});

const participantsSchema = z.object({
  response: z.object({
    participants: z.array(
      z.looseObject({
        id: z.number(),
        display: z.string().optional(),
        publisher: z.boolean(),
        remote: z.boolean().optional(),
      }),
    ),
  }),
});
const handlesSchema = z.object({ handles: z.array(z.number()) });
/** A VideoRoom handle's info as `handle_info` shows it (janus_videoroom_query_session). */
const handleInfoSchema = z.object({
  info: z.looseObject({
    plugin: z.string().optional(),
    plugin_specific: z
      .looseObject({
        type: z.string(),
        room: z.number().optional(),
        id: z.number().optional(),
        streams: z
          .array(
            z.looseObject({
              type: z.enum(['audio', 'video', 'data']),
              mindex: z.number(),
              mid: z.string(),
              codec: z.string().optional(),
              simulcast: z.boolean().optional(),
              'vp9-svc': z.boolean().optional(),
            }),
          )
          .optional(),
      })
      .optional(),
  }),
});
const remotesSchema = z.object({
  response: z.object({ list: z.array(z.looseObject({ remote_id: z.string() })) }),
});
const remotePortsSchema = z.object({
  response: z.looseObject({ port: z.number(), rtcp_port: z.number() }),
});

/**
 * Janus's admin API over HTTP (the `janus.transport.http` admin endpoint) with the global fetch:
 * `list_sessions` for the load, and the VideoRoom's admin requests through `message_plugin` (`list`,
 * `create`), which Janus 1.1 accepts on the admin API without a plugin handle.
 */
@Injectable()
export class HttpMediaNodeAdmin extends MediaNodeAdminPort {
  async load(node: MediaNodeAccess): Promise<MediaNodeLoad> {
    const sessions = sessionsSchema.safeParse(await this.request(node, { janus: 'list_sessions' }));
    if (!sessions.success) throw badAnswer(node, 'list_sessions');
    const rooms = roomListSchema.safeParse(await this.plugin(node, { request: 'list' }));
    if (!rooms.success) throw badAnswer(node, 'videoroom list');
    return {
      sessions: sessions.data.sessions.length,
      rooms: rooms.data.response.list.map((r) => ({ room: r.room, participants: r.num_participants })),
    };
  }

  async ensureRoom(node: MediaNodeAccess, room: ClassRoom): Promise<boolean> {
    const answer = pluginAnswerSchema.safeParse(
      await this.plugin(node, {
        request: 'create',
        room: room.room,
        description: room.description,
        ...(room.pin !== undefined ? { pin: room.pin } : {}),
        publishers: room.publishers,
        bitrate: room.bitrate,
        fir_freq: 10,
        ...(room.recDir !== undefined ? { record: false, rec_dir: room.recDir } : {}),
        notify_joining: true,
        permanent: false,
      }),
    );
    if (!answer.success) throw badAnswer(node, 'videoroom create');
    const { response } = answer.data;
    if (response.videoroom === 'created') return true;
    if (response.error_code === ROOM_EXISTS) return false;
    throw new MediaNodeError(
      'E-NODE-REFUSED',
      `node ${node.adminUrl} refused to create room ${room.room}: ${response.error ?? 'no reason given'}`,
    );
  }

  async publishers(node: MediaNodeAccess, room: number): Promise<RoomPublisher[]> {
    const answer = participantsSchema.safeParse(
      await this.videoroom(node, 'listparticipants', { request: 'listparticipants', room }),
    );
    if (!answer.success) throw badAnswer(node, 'videoroom listparticipants');
    return answer.data.response.participants
      .filter((p) => p.publisher)
      .map((p) => ({ id: p.id, display: p.display ?? '', remote: p.remote === true }));
  }

  /**
   * `listparticipants` does not show streams; the publisher's handle does. The node's handles are read
   * one by one, so this is asked only when a publisher is to be forwarded and has not been yet.
   */
  async publisherStreams(node: MediaNodeAccess, room: number): Promise<Map<number, PublisherStream[]>> {
    const found = new Map<number, PublisherStream[]>();
    const sessions = sessionsSchema.safeParse(await this.request(node, { janus: 'list_sessions' }));
    if (!sessions.success) throw badAnswer(node, 'list_sessions');
    for (const session of sessions.data.sessions) {
      // A session that ended between the two questions is no error: it has nothing to forward.
      const handles = handlesSchema.safeParse(
        await this.request(node, { janus: 'list_handles' }, `/${session}`).catch(ignoreRefusal),
      );
      if (!handles.success) continue;
      for (const handle of handles.data.handles) {
        const info = handleInfoSchema.safeParse(
          await this.request(node, { janus: 'handle_info' }, `/${session}/${handle}`).catch(ignoreRefusal),
        );
        const specific = info.success ? info.data.info.plugin_specific : undefined;
        if (
          !info.success ||
          info.data.info.plugin !== VIDEOROOM ||
          specific?.type !== 'publisher' ||
          specific.room !== room ||
          specific.id === undefined ||
          !specific.streams?.length
        )
          continue;
        found.set(
          specific.id,
          specific.streams.map((s) => ({
            type: s.type,
            mindex: s.mindex,
            mid: s.mid,
            ...(s.codec !== undefined ? { codec: s.codec } : {}),
            ...(s.simulcast ? { simulcast: true } : {}),
            ...(s['vp9-svc'] ? { svc: true } : {}),
          })),
        );
      }
    }
    return found;
  }

  async remotesOf(node: MediaNodeAccess, room: number, publisherId: number): Promise<string[]> {
    const answer = remotesSchema.safeParse(
      await this.videoroom(node, 'listremotes', { request: 'listremotes', room, publisher_id: publisherId }),
    );
    if (!answer.success) throw badAnswer(node, 'videoroom listremotes');
    return answer.data.response.list.map((r) => r.remote_id);
  }

  async addRemotePublisher(
    node: MediaNodeAccess,
    room: number,
    publisher: {
      readonly id: number;
      readonly display: string;
      readonly streams: readonly PublisherStream[];
    },
  ): Promise<RemotePublisherPorts> {
    const answer = remotePortsSchema.safeParse(
      await this.videoroom(node, 'add_remote_publisher', {
        request: 'add_remote_publisher',
        room,
        id: publisher.id,
        display: publisher.display,
        streams: publisher.streams.map((s) => ({
          type: s.type,
          mindex: s.mindex,
          mid: s.mid,
          ...(s.codec !== undefined ? { codec: s.codec } : {}),
          ...(s.simulcast ? { simulcast: true } : {}),
          ...(s.svc ? { svc: true } : {}),
        })),
      }),
    );
    if (!answer.success) throw badAnswer(node, 'videoroom add_remote_publisher');
    return { port: answer.data.response.port, rtcpPort: answer.data.response.rtcp_port };
  }

  async removeRemotePublisher(node: MediaNodeAccess, room: number, publisherId: number): Promise<void> {
    await this.videoroom(node, 'remove_remote_publisher', {
      request: 'remove_remote_publisher',
      room,
      id: publisherId,
    });
  }

  async publishRemotely(
    node: MediaNodeAccess,
    room: number,
    forward: {
      readonly publisherId: number;
      readonly remoteId: string;
      readonly host: string;
      readonly ports: RemotePublisherPorts;
    },
  ): Promise<void> {
    await this.videoroom(node, 'publish_remotely', {
      request: 'publish_remotely',
      room,
      publisher_id: forward.publisherId,
      remote_id: forward.remoteId,
      host: forward.host,
      port: forward.ports.port,
      // The receiving node's RTCP (its PLIs) comes back here: a subscriber there gets a keyframe at once.
      rtcp_port: forward.ports.rtcpPort,
    });
  }

  async unpublishRemotely(
    node: MediaNodeAccess,
    room: number,
    publisherId: number,
    remoteId: string,
  ): Promise<void> {
    await this.videoroom(node, 'unpublish_remotely', {
      request: 'unpublish_remotely',
      room,
      publisher_id: publisherId,
      remote_id: remoteId,
    });
  }

  /** A VideoRoom request whose answer is an error unless `videoroom` is not "event" (how it reports errors). */
  private async videoroom(
    node: MediaNodeAccess,
    what: string,
    request: Record<string, unknown>,
  ): Promise<unknown> {
    const json = await this.plugin(node, request);
    const answer = pluginAnswerSchema.safeParse(json);
    if (!answer.success) throw badAnswer(node, `videoroom ${what}`);
    const { response } = answer.data;
    if (response.error_code !== undefined)
      throw new MediaNodeError(
        'E-NODE-REFUSED',
        `node ${node.adminUrl} refused ${what} in room ${String(request.room)}: ${response.error ?? `code ${response.error_code}`}`,
      );
    return json;
  }

  private plugin(node: MediaNodeAccess, request: Record<string, unknown>): Promise<unknown> {
    return this.request(node, { janus: 'message_plugin', plugin: VIDEOROOM, request });
  }

  /** `path`: a session's or handle's own endpoint under the admin URL (`/{session}/{handle}`). */
  private async request(node: MediaNodeAccess, body: Record<string, unknown>, path = ''): Promise<unknown> {
    const message = {
      ...body,
      transaction: randomBytes(8).toString('hex'),
      ...(node.adminSecret !== null ? { admin_secret: node.adminSecret } : {}),
    };
    let text: string;
    try {
      const response = await fetch(`${node.adminUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(message),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      text = await response.text();
    } catch (error) {
      throw new MediaNodeError('E-NODE-UNREACHABLE', `can't reach ${node.adminUrl}: ${reason(error)}`, {
        cause: error,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new MediaNodeError('E-NODE-BAD-ANSWER', `${node.adminUrl} answered no JSON`, { cause: error });
    }
    const answer = answerSchema.safeParse(json);
    if (!answer.success) throw badAnswer(node, String(body.janus));
    if (answer.data.janus !== 'success')
      throw new MediaNodeError(
        'E-NODE-REFUSED',
        `${node.adminUrl} refused ${String(body.janus)}: ${answer.data.error?.reason ?? answer.data.janus}`,
      );
    return json;
  }
}

/** A refusal (the session or handle is gone) reads as nothing there; an unreachable node stays an error. */
function ignoreRefusal(error: unknown): undefined {
  if (error instanceof MediaNodeError && error.code === 'E-NODE-REFUSED') return undefined;
  throw error;
}

function badAnswer(node: MediaNodeAccess, what: string): MediaNodeError {
  return new MediaNodeError('E-NODE-BAD-ANSWER', `${node.adminUrl} gave an unexpected answer to ${what}`);
}
