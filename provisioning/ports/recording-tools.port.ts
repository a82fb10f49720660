/** One `.mjr` file's header (Janus's recorder, `src/record.c`): what it holds and when it began. */
export interface MjrHeader {
  /** `a` audio, `v` video, `d` data. */
  readonly kind: 'a' | 'v' | 'd';
  readonly codec: string;
  /** Wall-clock time of the first frame written, ms since the epoch (`u`, µs in the file). */
  readonly firstFrameMs: number;
}

/** A stream of the cut: a playable file and the wall-clock time its t=0 stands for. */
export interface CutInput {
  readonly file: string;
  readonly startMs: number;
}

/**
 * The media tools the fleet cuts recordings with (issue 21): Debian's `janus-pp-rec` (janus-tools) turns
 * one `.mjr` into one playable file — it cannot mux audio and video in 1.1.x, one input per run — and
 * `ffmpeg` cuts and muxes them into one WebM.
 */
export abstract class RecordingToolsPort {
  /** E-CATCHUP-RECORDING-BAD when the file is not a Janus recording. */
  abstract header(mjr: string): Promise<MjrHeader>;
  /** `janus-pp-rec mjr out`; out's extension picks the container (.webm for VP8, .opus for Opus). */
  abstract convert(mjr: string, out: string): Promise<void>;
  /** Cut [fromMs, toMs) out of the inputs into one WebM at `out` (re-encoded: exact at both ends). */
  abstract cut(
    inputs: { readonly video?: CutInput; readonly audio?: CutInput },
    fromMs: number,
    toMs: number,
    out: string,
  ): Promise<void>;
}
