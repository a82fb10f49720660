import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { JanodeJanus } from '../../../device/adapters/janus.janode.js';
import type { RemotePublisher, RemoteStream } from '../../../device/ports/janus.port.js';
import type { ClassLocationService } from '../../../device/services/class-location.service.js';
import type { ConfigService } from '../../../device/services/config.service.js';

const ROOM = 4100;
const OWN = 11;
const TEACHER = 22;
const GONE = 8139763540323240;
const streams: RemoteStream[] = [
  { type: 'audio', mid: '0' },
  { type: 'video', mid: '1' },
];

type Message = {
  janus: string;
  transaction?: string;
  session_id?: number;
  handle_id?: number;
  body?: { request?: string; streams?: { feed: number }[] };
};

/**
 * Janus's WebSocket API, scripted, for one order of messages real Janus produces but no test can time:
 * a publisher's "joined" answer is pushed only after the SDP work, so a feed that leaves meanwhile is
 * announced ("leaving") to the joining publisher before the list that still names it. It happened in CI
 * when the fleet took a dead node's forwarded twin away as the box moved onto the node. Everything
 * else is the real janode adapter over a real socket.
 */
class ScriptedJanus {
  readonly server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: () => 'janus-protocol',
  });
  readonly subscribeRequests: number[][] = [];
  private handles = 0;

  private constructor() {
    this.server.on('connection', (ws) => ws.on('message', (raw) => this.answer(ws, JSON.parse(String(raw)))));
  }

  static async open(): Promise<ScriptedJanus> {
    const janus = new ScriptedJanus();
    await new Promise((resolve) => janus.server.once('listening', resolve));
    return janus;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private answer(ws: WebSocket, m: Message): void {
    const send = (reply: object) => ws.send(JSON.stringify(reply));
    const { transaction, session_id, handle_id } = m;
    const event = (data: object, extra: object = {}) =>
      send({
        janus: 'event',
        session_id,
        sender: handle_id,
        plugindata: { plugin: 'janus.plugin.videoroom', data },
        ...extra,
      });
    switch (m.janus) {
      case 'create':
        return send({ janus: 'success', transaction, data: { id: 1 } });
      case 'attach':
        return send({ janus: 'success', transaction, session_id, data: { id: 100 + ++this.handles } });
      case 'detach':
      case 'destroy':
        return send({ janus: 'success', transaction, session_id });
      case 'keepalive':
      case 'trickle':
        return send({ janus: 'ack', transaction, session_id });
      case 'message':
        send({ janus: 'ack', transaction, session_id });
        switch (m.body?.request) {
          case 'joinandconfigure':
            event({ videoroom: 'event', room: ROOM, leaving: GONE });
            return event(
              {
                videoroom: 'joined',
                room: ROOM,
                id: OWN,
                private_id: 1,
                publishers: [
                  { id: TEACHER, display: '老师', streams },
                  { id: GONE, display: '梅州教学点', streams },
                ],
              },
              { transaction, jsep: { type: 'answer', sdp: 'v=0\r\n' } },
            );
          case 'join': {
            const feeds = (m.body.streams ?? []).map((s) => s.feed);
            this.subscribeRequests.push(feeds);
            if (feeds.includes(GONE))
              return event(
                { videoroom: 'event', error_code: 428, error: `No such feed (${GONE})` },
                { transaction },
              );
            return event(
              {
                videoroom: 'attached',
                room: ROOM,
                streams: feeds.flatMap((feed, i) =>
                  streams.map((s, j) => ({
                    ...s,
                    mid: String(i * 2 + j),
                    feed_id: feed,
                    feed_display: '老师',
                  })),
                ),
              },
              { transaction, jsep: { type: 'offer', sdp: 'v=0\r\n' } },
            );
          }
        }
    }
  }

  close(): Promise<void> {
    for (const ws of this.server.clients) ws.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The box's adapter, as the daemon makes it, pointed at `url`. */
const adapterFor = (url: string) =>
  new JanodeJanus(
    { current: { janus: { connectTimeoutMs: 5000 } } } as unknown as ConfigService,
    { url } as unknown as ClassLocationService,
  );

describe('the janode adapter and a feed that left while the box joined', () => {
  let janus: ScriptedJanus | undefined;
  let adapter: JanodeJanus | undefined;
  afterEach(async () => {
    await adapter?.ensureClosed();
    await janus?.close();
  });

  it('forgets the feed Janus says is gone and subscribes to the others', async () => {
    janus = await ScriptedJanus.open();
    adapter = adapterFor(janus.url);
    const announced: (readonly RemotePublisher[])[] = [];
    adapter.publishersChanged.on('test', (list) => void announced.push(list));

    const joined = await adapter.publish({
      room: ROOM,
      display: '瑞金教学点',
      bitrateKbps: 300,
      offer: { type: 'offer', sdp: 'v=0\r\n' },
    });
    // The list Janus answered with still names the feed it had already said was leaving.
    expect(joined.publishers.map((p) => p.feed)).toEqual([String(TEACHER), String(GONE)]);

    // The first subscription names it and is refused: no error, a list without it instead.
    await expect(adapter.subscribe(ROOM, joined.publishers, {})).resolves.toBeUndefined();
    expect(announced.at(-1)?.map((p) => p.feed)).toEqual([String(TEACHER)]);
    // The next, from that list, carries the teacher.
    const offer = await adapter.subscribe(ROOM, announced.at(-1)!, {});
    expect(offer?.streams.map((s) => s.feed)).toEqual([String(TEACHER), String(TEACHER)]);
    expect(janus.subscribeRequests).toEqual([[TEACHER, GONE], [TEACHER]]);
  });

  it('still fails on a refused feed it does not hold, rather than asking again and again', async () => {
    janus = await ScriptedJanus.open();
    adapter = adapterFor(janus.url);
    await adapter.ensureConnected();
    const stranger: RemotePublisher = { feed: String(GONE), display: '?', streams };
    await expect(adapter.subscribe(ROOM, [stranger], {})).rejects.toThrow(`No such feed (${GONE})`);
  });
});
