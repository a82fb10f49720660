import semver from 'semver';
import { z } from 'zod';
import type { ErrorCode } from '../../common/error-catalog.js';
import {
  compareReleaseVersions,
  highestReleaseVersion,
  releaseSignatureSchema,
  type ReleaseManifest,
} from '../../common/release-manifest.js';

/**
 * The update's pure rules: which release a box may take, when, and what the steps are. The
 * steps are persisted (`update.json`) after each one, so a power cut resumes at the last
 * completed step; each step is idempotent.
 */

/** In order. `switched` means the `current` link names the new version and a trial is open. */
export const UPDATE_STEPS = ['downloading', 'verified', 'unpacked', 'switched'] as const;
export const updateStepSchema = z.enum(UPDATE_STEPS);
export type UpdateStep = z.output<typeof updateStepSchema>;

export const updateRecordSchema = z.strictObject({
  version: z.string().min(1).max(64),
  manifest: z.string().min(2),
  signature: releaseSignatureSchema,
  /** Where the payload comes from: a device-signed fleet path, or a local file (`classbox release install`). */
  source: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('fleet'), path: z.string().min(1) }),
    z.strictObject({ kind: z.literal('file'), path: z.string().min(1) }),
  ]),
  step: updateStepSchema,
  /** The version that ran when the update began: the one to go back to. */
  previous: z.string().min(1).max(64).nullable(),
  startedAt: z.iso.datetime(),
});
export type UpdateRecord = z.output<typeof updateRecordSchema>;

/**
 * Written just before the `current` link is switched and removed once the new version is
 * healthy. A starting daemon that finds it is on trial.
 */
export const trialRecordSchema = z.strictObject({
  version: z.string().min(1).max(64),
  previous: z.string().min(1).max(64).nullable(),
  /** Epoch ms: not healthy by then means roll back. */
  deadline: z.int().nonnegative(),
  /** Starts of the new version so far (counted by the starting daemon). */
  starts: z.int().nonnegative(),
});
export type TrialRecord = z.output<typeof trialRecordSchema>;

/** The last result, kept so it is reported to the fleet and a failed version isn't retried forever. */
export const updateOutcomeSchema = z.strictObject({
  version: z.string().min(1).max(64),
  result: z.enum(['installed', 'failed', 'rolled-back']),
  code: z.string().max(64).optional(),
  detail: z.string().max(500).optional(),
  at: z.iso.datetime(),
});
export type UpdateOutcome = z.output<typeof updateOutcomeSchema>;

export interface BoxFacts {
  arch: string;
  nodeAbi: number;
  /** `VERSION_ID` of /etc/os-release; undefined when unknown. */
  osVersion: string | undefined;
}

/** The catalogue's update codes: what a refused, failed or rolled-back update reports. */
export type UpdateErrorCode = Extract<ErrorCode, `E-UPDATE-${string}`>;

export interface Refusal {
  code: UpdateErrorCode;
  message: string;
}

/** Why this box can't run that release (empty when it can). */
export function checkManifestForBox(manifest: ReleaseManifest, box: BoxFacts): Refusal[] {
  const refusals: Refusal[] = [];
  if (manifest.arch !== box.arch) {
    refusals.push({
      code: 'E-UPDATE-ARCH',
      message: `the release is built for ${manifest.arch}, this box is ${box.arch}`,
    });
  }
  if (manifest.nodeAbi !== box.nodeAbi) {
    refusals.push({
      code: 'E-UPDATE-NODE-ABI',
      message: `the release's native addons need Node ABI ${manifest.nodeAbi}, this box runs ABI ${box.nodeAbi}`,
    });
  }
  if (box.osVersion === undefined || compareDotted(box.osVersion, manifest.minOsVersion) < 0) {
    refusals.push({
      code: 'E-UPDATE-OS',
      message: `the release needs OS version ${manifest.minOsVersion} or later, this box has ${box.osVersion ?? 'an unknown one'}`,
    });
  }
  return refusals;
}

/** Compare OS versions such as "12.5" and "12" (not semver: a missing part is 0). */
export function compareDotted(a: string, b: string): number {
  const zero = new semver.SemVer('0.0.0');
  return semver.compare(semver.coerce(a) ?? zero, semver.coerce(b) ?? zero);
}

/** The durable downgrade floor: the highest version this box ever ran (`floor.json`). */
export const updateFloorSchema = z.strictObject({ highest: z.string().min(1).max(64) });
export type UpdateFloor = z.output<typeof updateFloorSchema>;

/**
 * Why a release is refused as a downgrade, or undefined when it may be installed: older than
 * the highest version the box ever ran (the floor, or the running version), unless its signed
 * manifest allows the rollback.
 */
export function downgradeRefusal(
  manifest: Pick<ReleaseManifest, 'version' | 'allowRollback'>,
  highest: readonly (string | undefined | null)[],
): Refusal | undefined {
  const floor = highestReleaseVersion(highest);
  if (floor === undefined || compareReleaseVersions(manifest.version, floor) >= 0) return undefined;
  if (manifest.allowRollback === true) return undefined;
  return {
    code: 'E-UPDATE-DOWNGRADE',
    message: `version ${manifest.version} is older than ${floor}, the highest this box has run; a rollback needs a manifest signed with "allowRollback": true`,
  };
}

/**
 * Bytes needed on the release filesystem: what is left to download, the unpacked tree, and
 * a margin so the box never fills its disk (logs and the database live there too).
 */
export function spaceNeeded(manifest: ReleaseManifest, downloadedBytes: number, marginBytes: number): number {
  return Math.max(0, manifest.payload.size - downloadedBytes) + manifest.payload.unpackedSize + marginBytes;
}

export type TrialVerdict = { kind: 'continue' } | { kind: 'rollback'; code: UpdateErrorCode; detail: string };

/** Decided at every start of a version on trial, after counting this start. */
export function trialVerdict(trial: TrialRecord, nowMs: number, maxStarts: number): TrialVerdict {
  if (trial.starts > maxStarts) {
    return {
      kind: 'rollback',
      code: 'E-UPDATE-CRASH-LOOP',
      detail: `version ${trial.version} started ${trial.starts} times without becoming healthy`,
    };
  }
  if (nowMs > trial.deadline) {
    return {
      kind: 'rollback',
      code: 'E-UPDATE-UNHEALTHY',
      detail: `version ${trial.version} was not healthy by its deadline ${new Date(trial.deadline).toISOString()}`,
    };
  }
  return { kind: 'continue' };
}

export interface UpdateWindow {
  /** The class session's state: only `idle` or `error` allow an update. */
  sessionState: string;
  /** The class under way or next on the timetable. */
  nextClass: { startsAt: string; endsAt?: string } | undefined;
  nowMs: number;
  /** An update must be done (switch + restart + trial) this long before a class starts. */
  guardMs: number;
}

/** Why an update must wait now, or undefined when it may go ahead. */
export function updateBlockedBy(window: UpdateWindow): string | undefined {
  if (window.sessionState !== 'idle' && window.sessionState !== 'error')
    return `a class is ${window.sessionState}`;
  const next = window.nextClass;
  if (next) {
    const starts = Date.parse(next.startsAt);
    const ends = next.endsAt !== undefined ? Date.parse(next.endsAt) : starts;
    if (window.nowMs >= starts - window.guardMs && window.nowMs < ends)
      return `a timetabled class starts at ${next.startsAt}`;
  }
  return undefined;
}

/** Which release folders to delete: everything but the current one and the one before it. */
export function releasesToPrune(
  installed: readonly string[],
  keep: { current: string | undefined; previous: string | null | undefined },
): string[] {
  return installed.filter((v) => v !== keep.current && v !== keep.previous);
}
