import type { Readable } from 'node:stream';
import { ClassboxError } from '../../common/errors.js';
import type { ErrorCode } from '../../common/error-catalog.js';
import type { Cut, CutRequest } from '../../common/catchup-protocol.js';
import type { MissedLog } from '../domain/missed-intervals.js';
import type { FleetSession } from './fleet.port.js';

export type CatchupErrorCode = Extract<ErrorCode, `E-CATCHUP-${string}`>;

/** A catch-up step that failed (issue 21); the box's classes are never affected. */
export class CatchupError extends ClassboxError<CatchupErrorCode> {}

/** A missed stretch whose video is in the cache, ready to replay. */
export interface CachedReplay {
  /** The class it belongs to and its place in it. */
  readonly classId: string;
  readonly fromMs: number;
  readonly toMs: number;
  /** The file's name in the cache (`<cutId>.webm`). */
  readonly name: string;
  readonly size: number;
}

/** What the box keeps of catch-up between starts. */
export interface CatchupRecord {
  readonly log: MissedLog;
  readonly replays: readonly CachedReplay[];
  /** Per class: ms of it replayed (reported to the fleet as minutes caught up). */
  readonly caughtUpMs: Readonly<Record<string, number>>;
  /** Per cached part (its name): the furthest ms of it the screen showed (so a part replayed twice counts once). */
  readonly watchedMs: Readonly<Record<string, number>>;
  /** Stretches the fleet had no usable recording for (`<classId>/<fromMs>` → code): not asked again. */
  readonly unavailable: Readonly<Record<string, string>>;
}

export const EMPTY_RECORD: CatchupRecord = {
  log: { ended: [] },
  replays: [],
  caughtUpMs: {},
  watchedMs: {},
  unavailable: {},
};

/**
 * `<stateDir>/catchup/`: the record (written atomically), the cache of fetched videos (a download is
 * `<cutId>.part` until its length and SHA-256 match, then renamed: the cache never holds a half file).
 */
export abstract class CatchupStorePort {
  /** The record; an unreadable one is E-CATCHUP-STATE (the service starts afresh, saying so). */
  abstract read(): Promise<CatchupRecord | undefined>;
  abstract save(record: CatchupRecord): Promise<void>;
  /** Where the download of `cutId` goes until it is whole. */
  abstract partFile(cutId: string): string;
  /** Check the part's length and SHA-256 and move it into the cache; a mismatch deletes it (E-CATCHUP-HASH). */
  abstract commit(cutId: string, expected: { size: number; sha256: string }): Promise<string>;
  /** Delete a cached video or a part, and what lies beside it. */
  abstract remove(name: string): Promise<void>;
  /** Delete parts and files no record names (left by a crash or a power cut). */
  abstract removeStray(keep: readonly string[]): Promise<void>;
  /** Free bytes on the filesystem holding the cache. */
  abstract freeBytes(): Promise<number>;
  /** A cached video's bytes [start, end], for the page's video element (it reads with Range). */
  abstract open(name: string): Promise<{ size: number; read(start: number, end: number): Readable }>;
}

/** The fleet's side of catch-up: cut a stretch, fetch the cut. */
export abstract class CatchupFleetPort {
  /**
   * E-CATCHUP-NO-RECORDING / E-CATCHUP-RECORDING-BAD from the fleet, E-CATCHUP-REFUSED for an answer no
   * retry changes (400/404/410/422), E-CATCHUP-DOWNLOAD when unreachable or for one that may pass.
   */
  abstract requestCut(session: FleetSession, request: CutRequest): Promise<Cut>;
  /** Resumable, rate-limited, stops on `signal` keeping what arrived. */
  abstract download(
    session: FleetSession,
    cut: Cut,
    file: string,
    options: { bytesPerSec: number; signal: AbortSignal },
  ): Promise<void>;
}
