/**
 * The page's codec choice and Opus settings as plain functions of codec lists and SDP text (issue 16,
 * docs/media.md): no browser API here, so the unit tests run them under Node.
 */

/** What the functions need of an `RTCRtpCodec`. */
export interface CodecLike {
  readonly mimeType: string;
}

/** Codecs that only wrap or repair the chosen one; kept after it so NACK retransmission still works. */
const HELPERS = new Set(['video/rtx', 'video/red', 'video/ulpfec', 'video/flexfec-03']);

/**
 * The chosen video codec first, its helpers after, every other codec left out: Janus answers with the
 * first codec of the offer its room allows, and the room's default must not pick one the board cannot
 * encode cheaply.
 */
export function videoCodecOrder<C extends CodecLike>(codecs: readonly C[], chosen: string): C[] {
  const mime = `video/${chosen}`.toLowerCase();
  const main = codecs.filter((c) => c.mimeType.toLowerCase() === mime);
  if (main.length === 0) return [...codecs];
  return [...main, ...codecs.filter((c) => HELPERS.has(c.mimeType.toLowerCase()))];
}

/**
 * RED (RFC 2198, each packet carries the previous one too) first where the browser has it, then Opus.
 * Janus answers with what its VideoRoom negotiates: Debian's 1.1.2 answers plain Opus (docs/media.md),
 * a Janus that knows `audio/red` keeps it.
 */
export function audioCodecOrder<C extends CodecLike>(codecs: readonly C[]): C[] {
  const red = codecs.filter((c) => c.mimeType.toLowerCase() === 'audio/red');
  const opus = codecs.filter((c) => c.mimeType.toLowerCase() === 'audio/opus');
  if (opus.length === 0) return [...codecs];
  return [...red, ...opus];
}

/**
 * Opus's encoder settings come from the *receiver's* description, here Janus's answer: ask for in-band
 * FEC (a lost packet rebuilt from the next one), DTX (nothing sent in silence, leaving room for
 * retransmissions) and the profile's bitrate. Janus 1.1.2 writes `useinbandfec=1` when the room has
 * `opus_fec` (its default) and `usedtx` only with `opus_dtx`, and never a bitrate. `maxplaybackrate=16000`
 * keeps Opus in wideband SILK, the only mode that carries in-band FEC (libopus's LBRR); wideband is
 * "HD voice", enough for a classroom's speech. NACK on Opus (`withAudioNack`) makes the box resend the
 * sound Janus reports lost.
 */
export function mungeOpusAnswer(sdp: string, audioKbps: number): string {
  const lines = sdp.split('\r\n');
  const opusPts = new Set(
    lines.flatMap((l) => {
      const pt = /^a=rtpmap:(\d+) opus\/48000/i.exec(l)?.[1];
      return pt ? [pt] : [];
    }),
  );
  const wanted: Record<string, string> = {
    useinbandfec: '1',
    usedtx: '1',
    maxaveragebitrate: String(audioKbps * 1000),
    maxplaybackrate: '16000',
  };
  const seen = new Set<string>();
  const out = lines.map((line) => {
    const [, pt, fmtp] = /^a=fmtp:(\d+) (.*)$/.exec(line) ?? [];
    if (pt === undefined || fmtp === undefined || !opusPts.has(pt)) return line;
    seen.add(pt);
    const params = new Map(
      fmtp
        .split(';')
        .map((p) => p.trim())
        .filter(Boolean)
        .map((p) => {
          const [k = '', ...v] = p.split('=');
          return [k.trim().toLowerCase(), v.join('=').trim()] as const;
        }),
    );
    for (const [k, v] of Object.entries(wanted)) params.set(k, v);
    return `a=fmtp:${pt} ${[...params].map(([k, v]) => `${k}=${v}`).join(';')}`;
  });
  // An Opus payload type with no fmtp line at all gets one, right after its rtpmap.
  for (const pt of opusPts) {
    if (seen.has(pt)) continue;
    const at = out.findIndex((l) => l.startsWith(`a=rtpmap:${pt} `));
    out.splice(
      at + 1,
      0,
      `a=fmtp:${pt} ${Object.entries(wanted)
        .map(([k, v]) => `${k}=${v}`)
        .join(';')}`,
    );
  }
  return withAudioNack(out.join('\r\n'));
}

/**
 * Ask for retransmission of lost sound (`a=rtcp-fb:<opus pt> nack`) in an SDP, offer or answer. Chromium
 * retransmits audio that its peer NACKs when the negotiated Opus carries this feedback, but never offers
 * it; Janus (1.1.2 too) NACKs a publisher's lost audio when the publisher's offer has it, and keeps its own
 * answer's audio lines free of it, so both sides are set here. Where the line is already there nothing
 * changes.
 */
export function withAudioNack(sdp: string): string {
  const lines = sdp.split('\r\n');
  const opusPts = lines.flatMap((l) => {
    const pt = /^a=rtpmap:(\d+) opus\/48000/i.exec(l)?.[1];
    return pt ? [pt] : [];
  });
  for (const pt of opusPts) {
    if (lines.some((l) => l === `a=rtcp-fb:${pt} nack`)) continue;
    const at = lines.findIndex((l) => l.startsWith(`a=rtpmap:${pt} `));
    lines.splice(at + 1, 0, `a=rtcp-fb:${pt} nack`);
  }
  return lines.join('\r\n');
}
