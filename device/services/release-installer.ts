import {
  compareReleaseVersions,
  releaseManifestSchema,
  releaseSignatureSchema,
  releaseVersion,
  verifyManifest,
  type ReleaseManifest,
  type ReleaseSignature,
} from '../../common/release-manifest.js';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { describeIssues } from '../../common/zod-issues.js';
import {
  checkManifestForBox,
  downgradeRefusal,
  releasesToPrune,
  spaceNeeded,
  trialVerdict,
  type TrialRecord,
  type UpdateRecord,
} from '../domain/update-plan.js';
import type { FleetSession } from '../ports/fleet.port.js';
import { ReleaseDownloadPort, ReleaseFilesPort, UpdateError, UpdateStatePort } from '../ports/update.port.js';

export interface InstallerOptions {
  /** How long a new version has to become healthy after the switch. */
  readonly healthTimeoutMs: number;
  /** Starts of a new version that may fail before it is rolled back. */
  readonly maxTrialStarts: number;
  /** Free space kept beyond what the release needs. */
  readonly marginBytes: number;
  readonly now: () => number;
  /**
   * Called after every persisted step with its name; tests kill the process here to prove
   * each step resumes after a power cut. A no-op in production.
   */
  readonly checkpoint: (step: string) => void;
}

export interface ReleaseOffer {
  readonly version: string;
  readonly manifest: string;
  readonly signature: unknown;
  readonly source: UpdateRecord['source'];
}

export type Recovery =
  | { kind: 'steady'; current: string | undefined }
  | { kind: 'trial'; trial: TrialRecord }
  | { kind: 'rolled-back'; version: string; to: string; code: string; detail: string };

/**
 * Installs a release in steps that each survive a power cut: check → download (resumable) →
 * verify signature and hash → unpack → open a trial → switch `current`. Nothing is unpacked
 * before the signature and the hash are checked; the running version is never touched before
 * the switch, and the switch is one rename.
 */
export class ReleaseInstaller {
  private readonly log = createLogger(ReleaseInstaller.name);

  constructor(
    private readonly files: ReleaseFilesPort,
    private readonly download: ReleaseDownloadPort | undefined,
    private readonly state: UpdateStatePort,
    private readonly options: InstallerOptions,
  ) {}

  /**
   * Make the tree consistent after whatever happened last: leftovers removed, `current`
   * pointing at a whole release, a trial judged. `countStart` is true when a daemon starts.
   */
  async recover(countStart: boolean): Promise<Recovery> {
    await this.files.removeLeftovers();
    const trial = await this.state.readTrial();
    let current = await this.files.currentVersion();
    // Only a tree this updater was changing is repaired; anything else isn't ours to touch.
    if (current === undefined && trial) {
      current = await this.repairCurrent(trial);
    }
    if (!trial) return { kind: 'steady', current };
    if (current !== trial.version) {
      const record = await this.state.readRecord();
      if (record?.version === trial.version && record.step === 'switched') {
        // Killed in the middle of a rollback: the link is back, the outcome not yet written.
        await this.state.writeOutcome({
          version: trial.version,
          result: 'rolled-back',
          code: 'E-UPDATE-UNHEALTHY',
          detail: `version ${trial.version} was rolled back`,
          at: new Date(this.options.now()).toISOString(),
        });
        await this.state.clearRecord();
      }
      // Otherwise killed after the trial was written but before the switch: it never happened.
      await this.state.clearTrial();
      this.log.info(`Dropped unopened trial version=${trial.version} current=${current ?? '-'}`);
      return { kind: 'steady', current };
    }
    if (!countStart) return { kind: 'trial', trial };
    const counted = { ...trial, starts: trial.starts + 1 };
    await this.state.writeTrial(counted);
    this.options.checkpoint('trial-counted');
    const verdict = trialVerdict(counted, this.options.now(), this.options.maxTrialStarts);
    if (verdict.kind === 'continue') {
      this.log.info(`Started version on trial version=${trial.version} start=${counted.starts}`);
      return { kind: 'trial', trial: counted };
    }
    const to = await this.rollback(counted, verdict.code, verdict.detail);
    return { kind: 'rolled-back', version: trial.version, to, code: verdict.code, detail: verdict.detail };
  }

  /**
   * Check an offered release and record it as the update in progress. Refused (UpdateError)
   * for a bad manifest, signature, key, architecture, Node ABI, OS or too little space.
   * The same version already in progress is resumed, not restarted.
   */
  async begin(offer: ReleaseOffer): Promise<UpdateRecord> {
    const { manifest, signature } = await this.check(offer.manifest, offer.signature);
    if (manifest.version !== offer.version) {
      throw new UpdateError(
        'E-UPDATE-MANIFEST',
        `the offer names version ${offer.version} but its manifest says ${manifest.version}`,
      );
    }
    const existing = await this.state.readRecord();
    if (existing?.version === offer.version) return existing;
    if (existing) {
      this.log.info(`Abandoned update version=${existing.version} for version=${offer.version}`);
      await this.files.removeDownload(existing.version);
      await this.state.clearRecord();
    }
    const { size } = await this.files.downloadFile(offer.version);
    const needed = spaceNeeded(manifest, size, this.options.marginBytes);
    const free = await this.files.freeBytes();
    if (free < needed) {
      throw new UpdateError(
        'E-UPDATE-SPACE',
        `not enough free space for version ${offer.version}: ${mb(needed)} MB needed, ${mb(free)} MB free`,
      );
    }
    const record: UpdateRecord = {
      version: offer.version,
      manifest: offer.manifest,
      signature,
      source: offer.source,
      step: 'downloading',
      previous: (await this.files.currentVersion()) ?? null,
      startedAt: new Date(this.options.now()).toISOString(),
    };
    await this.state.writeRecord(record);
    this.options.checkpoint('begun');
    this.log.info(`Began update version=${record.version} from=${record.previous ?? '-'}`);
    return record;
  }

  /**
   * Carry the recorded update on from its last step up to the switch. Returns `switched` once
   * `current` names the new version (the caller restarts), or `held` when `maySwitch` said no
   * (everything is ready; the switch waits). On a refusal the record is dropped and the
   * running version stays.
   */
  async continue(
    record: UpdateRecord,
    session: FleetSession | undefined,
    onProgress: (percent: number) => void = () => undefined,
    maySwitch: () => boolean = () => true,
  ): Promise<'switched' | 'held'> {
    let step = record.step;
    const { manifest } = await this.check(record.manifest, record.signature);
    try {
      if (step === 'downloading') {
        await this.fetch(record, manifest, session, onProgress);
        this.options.checkpoint('downloaded');
        // Each step's start is logged: IT reads from the journal where an update stood and how long each
        // step took (the power-cut test times "download excluded → healthy" from these lines).
        this.log.info(`Verifying update version=${record.version}`);
        await this.verifyPayload(record.version, manifest);
        step = await this.advance(record, 'verified');
      }
      if (step === 'verified') {
        // Checked again after a restart: the download slot could have been changed while the box was off.
        if (record.step === 'verified') {
          this.log.info(`Verifying update version=${record.version} again after a restart`);
          await this.verifyPayload(record.version, manifest);
        }
        this.log.info(`Unpacking update version=${record.version}`);
        await this.files.unpack(record.version);
        this.options.checkpoint('unpacked-unrecorded');
        step = await this.advance(record, 'unpacked');
      }
      if (step === 'unpacked') {
        if (!maySwitch()) return 'held';
        // A trial already open for this version means the switch happened before a power cut.
        const open = await this.state.readTrial();
        if (open?.version !== record.version) {
          await this.state.writeTrial({
            version: record.version,
            previous: record.previous,
            deadline: Math.round(this.options.now() + this.options.healthTimeoutMs),
            starts: 0,
          });
          this.options.checkpoint('trial-opened');
        }
        await this.files.switchCurrent(record.version);
        // Raised at the switch, not at the confirmation: a version that ran at all sets the floor,
        // so a failed trial can't be used to bring an older (signed, vulnerable) release back.
        await this.state.raiseFloor(record.version);
        this.options.checkpoint('switched-unrecorded');
        step = await this.advance(record, 'switched');
        await this.files.removeDownload(record.version);
      }
    } catch (error) {
      if (error instanceof UpdateError && error.code !== 'E-UPDATE-DOWNLOAD') {
        // A refusal: this release can't be installed. A download error is retried later instead.
        await this.abandon(record);
      }
      throw error;
    }
    this.log.info(`Switched to version=${record.version} previous=${record.previous ?? '-'}`);
    return 'switched';
  }

  /** The new version is healthy: close the trial, keep two releases, remember the success. */
  async confirm(trial: TrialRecord): Promise<void> {
    await this.state.writeOutcome({
      version: trial.version,
      result: 'installed',
      at: new Date(this.options.now()).toISOString(),
    });
    await this.state.clearTrial();
    await this.state.clearRecord();
    this.options.checkpoint('confirmed');
    await this.files.removeDownload(trial.version);
    for (const version of releasesToPrune(await this.files.listReleases(), {
      current: trial.version,
      previous: trial.previous,
    })) {
      await this.files
        .removeRelease(version)
        .catch((error: unknown) =>
          this.log.warn(`Can't remove old release version=${version}: ${reason(error)}`),
        );
    }
    this.log.info(`Confirmed update version=${trial.version} previous=${trial.previous ?? '-'}`);
  }

  /** Go back to the version before the trial; returns it. */
  async rollback(trial: TrialRecord, code: string, detail: string): Promise<string> {
    const to = trial.previous;
    if (to === null || !(await this.files.isInstalled(to))) {
      // Nothing to go back to (a first install): keep the new version and say so.
      this.log.error(`Can't roll back version=${trial.version}: no previous release to return to`);
      await this.state.clearTrial();
      await this.state.clearRecord();
      await this.state.writeOutcome({
        version: trial.version,
        result: 'failed',
        code,
        detail: `${detail}; no previous release to return to`.slice(0, 500),
        at: new Date(this.options.now()).toISOString(),
      });
      return trial.version;
    }
    await this.files.switchCurrent(to);
    this.options.checkpoint('rolled-back-unrecorded');
    await this.state.writeOutcome({
      version: trial.version,
      result: 'rolled-back',
      code,
      detail: detail.slice(0, 500),
      at: new Date(this.options.now()).toISOString(),
    });
    await this.state.clearTrial();
    await this.state.clearRecord();
    this.log.error(`Rolled back update version=${trial.version} to=${to} code=${code}: ${detail}`);
    return to;
  }

  /** Drop an update that can't go on; the running version is untouched. */
  async abandon(record: UpdateRecord): Promise<void> {
    await this.files.removeDownload(record.version).catch(() => undefined);
    await this.state.clearRecord();
  }

  private async advance(record: UpdateRecord, step: UpdateRecord['step']): Promise<UpdateRecord['step']> {
    await this.state.writeRecord({ ...record, step });
    this.options.checkpoint(step);
    return step;
  }

  /** Manifest schema, signature by a trusted key, fit for this box. */
  private async check(
    manifestText: string,
    rawSignature: unknown,
  ): Promise<{ manifest: ReleaseManifest; signature: ReleaseSignature }> {
    const signature = releaseSignatureSchema.safeParse(rawSignature);
    if (!signature.success) {
      throw new UpdateError(
        'E-UPDATE-SIGNATURE',
        `invalid release signature: ${describeIssues(signature.error).join('; ')}`,
      );
    }
    const verdict = verifyManifest(manifestText, signature.data, await this.files.trustedKeys());
    if (!verdict.ok) throw new UpdateError(verdict.code, verdict.message);
    let raw: unknown;
    try {
      raw = JSON.parse(manifestText);
    } catch (error) {
      throw new UpdateError('E-UPDATE-MANIFEST', 'the release manifest is not JSON', { cause: error });
    }
    const parsed = releaseManifestSchema.safeParse(raw);
    if (!parsed.success) {
      throw new UpdateError(
        'E-UPDATE-MANIFEST',
        `invalid release manifest: ${describeIssues(parsed.error).join('; ')}`,
      );
    }
    const refusals = checkManifestForBox(parsed.data, await this.files.facts());
    const downgrade = downgradeRefusal(parsed.data, [
      await this.state.readFloor(),
      await this.files.currentVersion(),
    ]);
    if (downgrade) refusals.push(downgrade);
    if (refusals.length > 0) {
      throw new UpdateError(refusals[0]!.code, refusals.map((r) => r.message).join('; '));
    }
    return { manifest: parsed.data, signature: signature.data };
  }

  private async fetch(
    record: UpdateRecord,
    manifest: ReleaseManifest,
    session: FleetSession | undefined,
    onProgress: (percent: number) => void,
  ): Promise<void> {
    const { file, size } = await this.files.downloadFile(record.version);
    if (record.source.kind === 'file') {
      if (size === manifest.payload.size) return;
      await this.files.copyIntoDownload(record.version, record.source.path);
      return;
    }
    // A download of full length is not yet a whole one: after a power cut its tail may never have
    // reached the card. The download adapter resumes from what it synced (at once when that is all).
    if (!this.download || !session) {
      throw new UpdateError('E-UPDATE-DOWNLOAD', 'no fleet server to download the release from');
    }
    if (size > manifest.payload.size) {
      // More bytes than the release has: not a resumable prefix, start again.
      await this.files.removeDownload(record.version);
    }
    await this.download.download(session, record.source.path, file, manifest.payload.size, (bytes) =>
      onProgress(Math.min(100, Math.floor((bytes / manifest.payload.size) * 100))),
    );
  }

  private async verifyPayload(version: string, manifest: ReleaseManifest): Promise<void> {
    const { sha256, size } = await this.files.hashDownload(version);
    if (size !== manifest.payload.size) {
      await this.files.removeDownload(version);
      throw new UpdateError(
        'E-UPDATE-SIZE',
        `the payload of version ${version} has ${size} bytes, its manifest says ${manifest.payload.size}`,
      );
    }
    if (sha256 !== manifest.payload.sha256) {
      await this.files.removeDownload(version);
      throw new UpdateError(
        'E-UPDATE-HASH',
        `the payload of version ${version} does not match its manifest's SHA-256 (tampered or corrupted)`,
      );
    }
  }

  /** `current` is missing or dangling: point it at the best whole release there is. */
  private async repairCurrent(trial: TrialRecord | undefined): Promise<string | undefined> {
    const installed = await this.files.listReleases();
    const choice =
      (trial?.previous && installed.includes(trial.previous) ? trial.previous : undefined) ??
      installed
        .filter((v) => releaseVersion.safeParse(v).success)
        .sort(compareReleaseVersions)
        .at(-1);
    if (choice === undefined) return undefined;
    await this.files.switchCurrent(choice);
    this.log.warn(`Repaired current link to=${choice}`);
    return choice;
  }
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
