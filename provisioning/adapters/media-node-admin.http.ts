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

  private plugin(node: MediaNodeAccess, request: Record<string, unknown>): Promise<unknown> {
    return this.request(node, { janus: 'message_plugin', plugin: VIDEOROOM, request });
  }

  private async request(node: MediaNodeAccess, body: Record<string, unknown>): Promise<unknown> {
    const message = {
      ...body,
      transaction: randomBytes(8).toString('hex'),
      ...(node.adminSecret !== null ? { admin_secret: node.adminSecret } : {}),
    };
    let text: string;
    try {
      const response = await fetch(node.adminUrl, {
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

function badAnswer(node: MediaNodeAccess, what: string): MediaNodeError {
  return new MediaNodeError('E-NODE-BAD-ANSWER', `${node.adminUrl} gave an unexpected answer to ${what}`);
}
