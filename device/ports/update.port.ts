import type {
  TrialRecord,
  UpdateErrorCode,
  UpdateOutcome,
  UpdateRecord,
  BoxFacts,
} from '../domain/update-plan.js';
import type { FleetSession } from './fleet.port.js';
import { ClassboxError } from '../../common/errors.js';

/** An update step that failed; the running version is untouched unless the code says otherwise. */
export class UpdateError extends ClassboxError<UpdateErrorCode> {}

/**
 * The release tree: `<root>/releases/<version>/`, the `current` link, downloads in
 * `<root>/downloads/`. Every change is atomic (temp name, then rename).
 */
export abstract class ReleaseFilesPort {
  abstract facts(): Promise<BoxFacts>;
  /** Free bytes on the filesystem holding the release tree. */
  abstract freeBytes(): Promise<number>;
  /** PEM public keys this box trusts for releases (they ship with the box). */
  abstract trustedKeys(): Promise<string[]>;
  /** The file a download of `version` goes to, and how many bytes it already has. */
  abstract downloadFile(version: string): Promise<{ file: string; size: number }>;
  /** Bring a local payload into the download slot (`classbox release install`). */
  abstract copyIntoDownload(version: string, source: string): Promise<void>;
  abstract hashDownload(version: string): Promise<{ sha256: string; size: number }>;
  abstract removeDownload(version: string): Promise<void>;
  /** Unpack into a temp folder, then rename to `releases/<version>`; a finished folder is kept as is. */
  abstract unpack(version: string): Promise<void>;
  abstract isInstalled(version: string): Promise<boolean>;
  /** The version `current` names, or undefined when it is missing or dangling. */
  abstract currentVersion(): Promise<string | undefined>;
  /** Point `current` at `version` atomically (a new link renamed over the old one). */
  abstract switchCurrent(version: string): Promise<void>;
  abstract listReleases(): Promise<string[]>;
  abstract removeRelease(version: string): Promise<void>;
  /** Delete what a killed step may have left: half-unpacked folders, a half-made link. */
  abstract removeLeftovers(): Promise<void>;
}

/**
 * Beside a download, how many of its bytes are known to be on the card: written, fsynced, then
 * counted here. Bytes past it are not trusted after a power cut (the page cache's last writes are
 * lost and the file's tail can read as zeros or stale data), and are cut off before resuming.
 */
export function syncedMarkOf(file: string): string {
  return `${file}.synced`;
}

/** Fetches a release payload, resuming from the bytes already in `file` (HTTP Range). */
export abstract class ReleaseDownloadPort {
  abstract download(
    session: FleetSession,
    path: string,
    file: string,
    expectedSize: number,
    onProgress: (bytes: number) => void,
  ): Promise<void>;
}

/** How many outcomes the box's update history keeps: years of monthly updates, a few tens of KB. */
export const UPDATE_HISTORY_KEPT = 100;

/** `<stateDir>/update/`: the update in progress, the trial, the last outcome and the history. Writes are atomic. */
export abstract class UpdateStatePort {
  abstract readRecord(): Promise<UpdateRecord | undefined>;
  abstract writeRecord(record: UpdateRecord): Promise<void>;
  abstract clearRecord(): Promise<void>;
  abstract readTrial(): Promise<TrialRecord | undefined>;
  abstract writeTrial(trial: TrialRecord): Promise<void>;
  abstract clearTrial(): Promise<void>;
  abstract readOutcome(): Promise<UpdateOutcome | undefined>;
  /** Records the outcome as the last one and appends it to the history (both survive a power cut). */
  abstract writeOutcome(outcome: UpdateOutcome): Promise<void>;
  /** Every outcome recorded, oldest first (the last {@link UPDATE_HISTORY_KEPT} at most). */
  abstract readHistory(): Promise<UpdateOutcome[]>;
  /** The highest version this box ever switched to (the downgrade floor), if known. */
  abstract readFloor(): Promise<string | undefined>;
  /** Raise the floor to `version` when it is higher; never lowers it. */
  abstract raiseFloor(version: string): Promise<void>;
}

/** Restart the daemon under its service manager, so the `current` link is read again. */
export abstract class RestartPort {
  abstract restart(reason: string): Promise<void>;
}
