import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { FleetApiError } from '../fleet-errors.js';
import { RecordingToolsPort, type CutInput, type MjrHeader } from '../ports/recording-tools.port.js';

const run = promisify(execFile);

/** A tool is given at least this long; far more means a stuck tool. */
const TOOL_TIMEOUT_MS = 10 * 60_000;
/**
 * A cut re-encodes the stretch: about its own length on a quiet 2-core server, near 4× on a loaded one
 * (bench `catchup`: 219 s for a minute at load 22). A 10-minute gap must not hit the floor above.
 */
const CUT_SLOWEST = 6;

/**
 * The replay's encoding: small enough for a rural link (≈ 2.6 MB a minute), sharp enough for a
 * blackboard at the box's screen size. VP8 + Opus in WebM: what Chromium plays without licences.
 */
const VIDEO_KBPS = 300;
const AUDIO_KBPS = 32;
const MAX_WIDTH = 640;
const MAX_FPS = 15;

/** Janus's own tools and ffmpeg, run with argument arrays (never a shell). */
export class JanusRecordingTools extends RecordingToolsPort {
  /** How long the cut of a `stretchMs` stretch may take before it is stopped. */
  protected cutTimeoutMs(stretchMs: number): number {
    return Math.max(TOOL_TIMEOUT_MS, CUT_SLOWEST * stretchMs);
  }

  async header(mjr: string): Promise<MjrHeader> {
    const handle = await open(mjr, 'r').catch((error: unknown) => {
      throw bad(`can't open ${mjr}`, error);
    });
    try {
      const head = Buffer.alloc(4096);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      // "MJR00002", a 16-bit big-endian length, then the JSON header (src/record.c).
      if (bytesRead < 10 || head.toString('latin1', 0, 8) !== 'MJR00002')
        throw bad(`${mjr} is not a Janus recording (no MJR00002 header)`);
      const length = head.readUInt16BE(8);
      if (10 + length > bytesRead) throw bad(`${mjr} has a cut-off header`);
      let info: { t?: unknown; c?: unknown; u?: unknown };
      try {
        info = JSON.parse(head.toString('utf8', 10, 10 + length)) as typeof info;
      } catch (error) {
        throw bad(`${mjr} has a header that is not JSON`, error);
      }
      if (
        (info.t !== 'a' && info.t !== 'v' && info.t !== 'd') ||
        typeof info.c !== 'string' ||
        typeof info.u !== 'number'
      )
        throw bad(`${mjr} has a header without type, codec or first-frame time`);
      return { kind: info.t, codec: info.c, firstFrameMs: Math.round(info.u / 1000) };
    } finally {
      await handle.close();
    }
  }

  async convert(mjr: string, out: string): Promise<void> {
    await tool('janus-pp-rec', [mjr, out], TOOL_TIMEOUT_MS);
  }

  async cut(
    inputs: { readonly video?: CutInput; readonly audio?: CutInput },
    fromMs: number,
    toMs: number,
    out: string,
  ): Promise<void> {
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'];
    const maps: string[] = [];
    let index = 0;
    for (const [kind, input] of [
      ['v', inputs.video],
      ['a', inputs.audio],
    ] as const) {
      if (!input) continue;
      // Seek each input to the same wall-clock instant: its own t=0 is its first frame's time. A seek
      // before the input's start is a late-starting stream, delayed to line up.
      const at = (fromMs - input.startMs) / 1000;
      if (at >= 0) args.push('-ss', at.toFixed(3));
      else args.push('-itsoffset', (-at).toFixed(3));
      args.push('-i', input.file);
      maps.push('-map', `${index}:${kind}`);
      index++;
    }
    if (index === 0) throw bad('the recording has neither audio nor video');
    args.push(
      ...maps,
      '-t',
      ((toMs - fromMs) / 1000).toFixed(3),
      // Re-encoded, not copied: WebRTC sends a key frame only when asked, so a stream copy could start
      // tens of seconds early; a re-encode starts on the second asked for, at a size chosen for the link.
      // At most 640×360 and 15 fps: what a replay of a lesson needs, and it halves the encoder's work (the
      // cut is made while the box waits for it; a 30 s stretch is ready in about its own length here).
      ...(inputs.video
        ? [
            '-vf',
            `scale='min(${MAX_WIDTH},iw)':-2,fps=${MAX_FPS}`,
            '-c:v',
            'libvpx',
            '-b:v',
            `${VIDEO_KBPS}k`,
            '-deadline',
            'realtime',
            '-cpu-used',
            '16',
            '-threads',
            '2',
            '-g',
            String(MAX_FPS * 4),
          ]
        : []),
      ...(inputs.audio ? ['-c:a', 'libopus', '-b:a', `${AUDIO_KBPS}k`] : []),
      '-f',
      'webm',
      out,
    );
    await tool('ffmpeg', args, this.cutTimeoutMs(toMs - fromMs));
  }
}

async function tool(command: string, args: string[], timeoutMs: number): Promise<void> {
  try {
    await run(command, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string; killed?: boolean };
    // Stopped for taking too long: a busy server, not a bad recording (which the box would give up on).
    if (e.killed)
      throw new FleetApiError(
        503,
        'E-CATCHUP-CUT-SLOW',
        `${command} took more than ${Math.round(timeoutMs / 1000)} s and was stopped`,
        undefined,
        { cause: error },
      );
    if (e.code === 'ENOENT')
      throw new FleetApiError(
        503,
        'E-CATCHUP-TOOLS',
        `${command} is not installed on the fleet server (apt-get install janus-tools ffmpeg)`,
      );
    const said = (e.stderr ?? '').trim().split('\n').slice(-3).join(' ').slice(0, 300);
    throw bad(`${command} failed: ${said || e.message}`, error);
  }
}

function bad(message: string, cause?: unknown): FleetApiError {
  return new FleetApiError(422, 'E-CATCHUP-RECORDING-BAD', message, undefined, { cause });
}
