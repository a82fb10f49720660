import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { syncPath, writeFileAtomic } from '../../common/atomic-file.js';
import { createLogger } from '../../common/logger.js';
import { describeIssues } from '../../common/zod-issues.js';
import { highestReleaseVersion } from '../../common/release-manifest.js';
import {
  trialRecordSchema,
  updateFloorSchema,
  updateOutcomeSchema,
  updateRecordSchema,
  type TrialRecord,
  type UpdateOutcome,
  type UpdateRecord,
} from '../domain/update-plan.js';
import { UpdateError, UpdateStatePort } from '../ports/update.port.js';

/**
 * `<stateDir>/update/`: `update.json` (the update in progress), `trial.json`, `outcome.json`,
 * `floor.json` (the highest version ever run: downgrades below it are refused).
 * Temp file → fsync → rename → fsync of the folder: a power cut leaves the old or the new file.
 * An unreadable file is treated as absent so a damaged state never stops the box from starting.
 */
export class FsUpdateState extends UpdateStatePort {
  private readonly log = createLogger(FsUpdateState.name);
  private readonly dir: string;

  constructor(stateDir: string) {
    super();
    this.dir = join(stateDir, 'update');
  }

  readRecord(): Promise<UpdateRecord | undefined> {
    return this.read('update.json', updateRecordSchema);
  }
  writeRecord(record: UpdateRecord): Promise<void> {
    return this.write('update.json', record);
  }
  clearRecord(): Promise<void> {
    return this.remove('update.json');
  }
  readTrial(): Promise<TrialRecord | undefined> {
    return this.read('trial.json', trialRecordSchema);
  }
  writeTrial(trial: TrialRecord): Promise<void> {
    return this.write('trial.json', trial);
  }
  clearTrial(): Promise<void> {
    return this.remove('trial.json');
  }
  readOutcome(): Promise<UpdateOutcome | undefined> {
    return this.read('outcome.json', updateOutcomeSchema);
  }
  writeOutcome(outcome: UpdateOutcome): Promise<void> {
    return this.write('outcome.json', outcome);
  }
  async readFloor(): Promise<string | undefined> {
    return (await this.read('floor.json', updateFloorSchema))?.highest;
  }
  async raiseFloor(version: string): Promise<void> {
    const floor = await this.readFloor();
    if (highestReleaseVersion([floor, version]) !== version) return;
    await this.write('floor.json', { highest: version });
  }

  private async read<S extends z.ZodType>(name: string, schema: S): Promise<z.output<S> | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new UpdateError('E-UPDATE-STATE', `can't read ${join(this.dir, name)}`, { cause: error });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.log.warn(`Ignored update state file=${join(this.dir, name)}: not JSON`);
      return undefined;
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      this.log.warn(
        `Ignored update state file=${join(this.dir, name)}: ${describeIssues(parsed.error).join('; ')}`,
      );
      return undefined;
    }
    return parsed.data;
  }

  private async write(name: string, value: unknown): Promise<void> {
    const file = join(this.dir, name);
    try {
      await writeFileAtomic(file, JSON.stringify(value, null, 2));
    } catch (error) {
      throw new UpdateError('E-UPDATE-STATE', `can't write ${file}`, { cause: error });
    }
  }

  private async remove(name: string): Promise<void> {
    await rm(join(this.dir, name), { force: true });
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await syncPath(this.dir);
  }
}
