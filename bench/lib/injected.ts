import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { HttpMediaNodeAdmin } from '../../provisioning/adapters/media-node-admin.http.js';
import type { MediaNodeAccess } from '../../provisioning/ports/media-node-admin.port.js';

/**
 * A participant of the class made of pre-encoded RTP, injected into the room through Janus's VideoRoom
 * remote-publisher API (`add_remote_publisher`), as the issue suggests for the other centres and the
 * teacher: the bench's browsers encoding five cameras took this machine's two cores from the box being
 * measured (load average 12–24 beside a 0.3-core box, docs/media.md). ffmpeg encodes each layer once
 * (cached in the temp folder) and then only copies packets onto RTP (`-c copy`): 0.02–0.03 core per
 * participant. To the box it is a publisher like any other: Janus announces it, the box subscribes to it and
 * asks it for layers.
 *
 * What differs from a browser: the stream does not adapt (a fixed bitrate per layer, Janus's REMB and
 * PLIs are not acted on), and a keyframe comes every second instead of when asked, so a subscriber that
 * joins or switches layer waits up to a second for it (Janus keeps relaying the old layer meanwhile).
 */
export interface InjectedLayer {
  readonly width: number;
  readonly height: number;
  readonly kbps: number;
}

export interface InjectedParticipant {
  readonly id: number;
  readonly display: string;
  /** One layer: a plain stream (as a box sends); three, lowest first: simulcast (as janus.js sends). */
  readonly layers: readonly InjectedLayer[];
}

/** The loop of the clip (2 s) repeated: ffmpeg loops it again when sending. */
const LOOP_S = 10;
/** Frames between keyframes: a subscriber's PLI is not answered, so one comes every second at 30 fps. */
const KEYFRAME_EVERY = 30;
/** Janus's RTP payload types for Opus and VP8 (OPUS_PT, VP8_PT in its rtp.c): it offers subscribers these. */
const OPUS_PT = 111;
const VP8_PT = 96;
/**
 * A remote publisher's streams are told apart by SSRC: 1000 + 10 × mindex + substream
 * (REMOTE_PUBLISHER_BASE_SSRC and REMOTE_PUBLISHER_SSRC_STEP in janus_videoroom.c).
 */
const ssrc = (mindex: number, substream = 0): number => 1000 + 10 * mindex + substream;

/** `clip` (a Y4M file) scaled and encoded once as VP8 at a constant `layer.kbps`, looped to LOOP_S. */
async function encodedLayer(clip: string, layer: InjectedLayer): Promise<string> {
  const file = `${clip}.vp8-${layer.width}x${layer.height}-${layer.kbps}k-${LOOP_S}s-g${KEYFRAME_EVERY}.ivf`;
  if (existsSync(file)) return file;
  const rate = `${layer.kbps}k`;
  const tmp = `${file}.${process.pid}.tmp.ivf`;
  // realtime with cpu-used 8 and no look-ahead: what a WebRTC sender's libvpx does.
  await ffmpeg(
    ['-stream_loop', '-1', '-i', clip, '-t', String(LOOP_S), '-vf', `scale=${layer.width}:${layer.height}`]
      .concat(['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0'])
      .concat(['-auto-alt-ref', '0', '-error-resilient', '1', '-b:v', rate, '-minrate', rate])
      .concat(['-maxrate', rate, '-g', String(KEYFRAME_EVERY), tmp]),
  );
  await rename(tmp, file);
  return file;
}

/** A voice-like tone as Opus at 32 kbit/s (Chromium's default for a microphone), LOOP_S long. */
async function encodedSound(clip: string): Promise<string> {
  const file = `${clip}.opus-${LOOP_S}s.ogg`;
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp.ogg`;
  await ffmpeg(
    ['-f', 'lavfi', '-i', `sine=frequency=220:beep_factor=3:sample_rate=48000:duration=${LOOP_S}`].concat([
      '-c:a',
      'libopus',
      '-b:a',
      '32k',
      '-application',
      'voip',
      tmp,
    ]),
  );
  await rename(tmp, file);
  return file;
}

function ffmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) =>
      reject(new Error(`ffmpeg could not start (apt-get install ffmpeg): ${e.message}`)),
    );
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`ffmpeg ${args.join(' ')} failed (${code}): ${err.trim()}`)),
    );
  });
}

export class InjectedPublisher {
  private constructor(
    private readonly sender: ChildProcess,
    private readonly node: MediaNodeAccess,
    private readonly room: number,
    readonly participant: InjectedParticipant,
    private readonly admin: HttpMediaNodeAdmin,
  ) {}

  /**
   * Announce `participant` in `room` of the Janus whose admin API is `node` and whose RTP is reached at
   * `host`, and start sending `clip` as it: one ffmpeg that paces the pre-encoded layers and the sound at
   * their own rate (`-re`), looping forever.
   */
  static async start(
    node: MediaNodeAccess,
    host: string,
    room: number,
    participant: InjectedParticipant,
    clip: string,
  ): Promise<InjectedPublisher> {
    if (participant.layers.length !== 1 && participant.layers.length !== 3)
      throw new Error(
        `${participant.display}: one layer or three (simulcast), not ${participant.layers.length}`,
      );
    const sound = await encodedSound(clip);
    const layers = [];
    for (const layer of participant.layers) layers.push(await encodedLayer(clip, layer));
    const admin = new HttpMediaNodeAdmin();
    const simulcast = layers.length === 3;
    const ports = await admin.addRemotePublisher(node, room, {
      id: participant.id,
      display: participant.display,
      streams: [
        { type: 'audio', mindex: 0, mid: '0', codec: 'opus' },
        { type: 'video', mindex: 1, mid: '1', codec: 'vp8', simulcast },
      ],
    });
    const to = `rtp://${host}:${ports.port}?rtcpport=${ports.rtcpPort}&pkt_size=1200`;
    const inputs = [sound, ...layers].flatMap((file) => ['-re', '-stream_loop', '-1', '-i', file]);
    // One RTP output per stream, all to the publisher's one port, told apart by SSRC.
    const rtp = (map: string, pt: number, id: number): string[] => [
      '-map',
      map,
      '-c',
      'copy',
      '-payload_type',
      String(pt),
      '-ssrc',
      String(id),
      '-f',
      'rtp',
      to,
    ];
    const outputs = [
      ...rtp('0:a', OPUS_PT, ssrc(0)),
      ...layers.flatMap((_, i) => rtp(`${i + 1}:v`, VP8_PT, ssrc(1, i))),
    ];
    const sender = spawn(
      'ffmpeg',
      ['-hide_banner', '-loglevel', 'error', '-nostdin', ...inputs, ...outputs],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      sender.once('spawn', resolve);
      sender.once('error', (e) =>
        reject(new Error(`ffmpeg could not start (apt-get install ffmpeg): ${e.message}`)),
      );
    });
    return new InjectedPublisher(sender, node, room, participant, admin);
  }

  async stop(): Promise<void> {
    if (this.sender.exitCode === null && this.sender.signalCode === null) {
      const exited = new Promise((resolve) => this.sender.once('exit', resolve));
      this.sender.kill('SIGTERM');
      await exited;
    }
    await this.admin.removeRemotePublisher(this.node, this.room, this.participant.id).catch(() => undefined);
  }
}
