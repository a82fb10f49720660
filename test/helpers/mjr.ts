import { readFileSync, writeFileSync } from 'node:fs';

/** The real recordings Debian's janus-demos ships (old MJR00001 format, ~10 s of VP8 and of Opus). */
export const SAMPLE_MJR = {
  video: '/usr/share/janus/recordings/rec-sample-video.mjr',
  audio: '/usr/share/janus/recordings/rec-sample-audio.mjr',
} as const;

/**
 * Rewrites one of the samples in the format Janus 1.1 writes (MJR00002: a JSON header with the first
 * frame's wall-clock time `u`, then `MEET` + a 32-bit ms offset + a 16-bit length per RTP packet), so
 * tests cut a real recording with the real tools without running a class first. The packets are the
 * sample's own; the offsets come from their RTP timestamps (90 kHz video, 48 kHz Opus).
 */
export function writeMjr2(kind: 'video' | 'audio', out: string, firstFrameMs: number): void {
  const old = readFileSync(SAMPLE_MJR[kind]);
  const packets: Buffer[] = [];
  for (let at = 0; at + 10 <= old.length;) {
    if (old.toString('latin1', at, at + 8) !== 'MEETECHO') throw new Error(`not MJR00001 at ${at}`);
    const length = old.readUInt16BE(at + 8);
    packets.push(old.subarray(at + 10, at + 10 + length));
    at += 10 + length;
  }
  // The first frame names the kind ("video"/"audio"); a JSON info frame may follow in some samples.
  const rtp = packets.filter((p) => p.length >= 12 && (p[0]! & 0xc0) === 0x80);
  const clock = kind === 'video' ? 90 : 48;
  const first = rtp[0]!.readUInt32BE(4);
  const header = Buffer.from(
    JSON.stringify({
      t: kind === 'video' ? 'v' : 'a',
      c: kind === 'video' ? 'vp8' : 'opus',
      s: firstFrameMs * 1000,
      u: firstFrameMs * 1000,
    }),
  );
  const parts: Buffer[] = [Buffer.from('MJR00002', 'latin1'), u16(header.length), header];
  for (const p of rtp) {
    const offset = Math.max(0, Math.round(((p.readUInt32BE(4) - first) >>> 0) / clock));
    const head = Buffer.alloc(10);
    head.write('MEET', 0, 'latin1');
    head.writeUInt32BE(offset, 4);
    head.writeUInt16BE(p.length, 8);
    parts.push(head, p);
  }
  writeFileSync(out, Buffer.concat(parts));
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
