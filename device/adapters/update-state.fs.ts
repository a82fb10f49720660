import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
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
import { UPDATE_HISTORY_KEPT, UpdateError, UpdateStatePort } from '../ports/update.port.js';

/**
 * `<stateDir>/update/`: `update.json` (the update in progress), `trial.json`, `outcome.json`,
 * `floor.json` (the highest version ever run: downgrades below it are refused), `history.jsonl` (every
 * outcome, one JSON line each, appended).
 * Temp file → fsync → rename → fsync of the folder: a power cut leaves the old or the new file. The history
 * is appended and fsynced; a cut in the middle of an append leaves a torn last line, which is skipped.
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
  async writeOutcome(outcome: UpdateOutcome): Promise<void> {
    await this.write('outcome.json', outcome);
    await this.appendHistory(outcome);
  }
  async readHistory(): Promise<UpdateOutcome[]> {
    const file = join(this.dir, 'history.jsonl');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new UpdateError('E-UPDATE-STATE', `can't read ${file}`, { cause: error });
    }
    const outcomes: UpdateOutcome[] = [];
    for (const [i, line] of text.split('\n').entries()) {
      if (line.trim() === '') continue;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        raw = undefined;
      }
      const parsed = updateOutcomeSchema.safeParse(raw);
      if (parsed.success) outcomes.push(parsed.data);
      else
        this.log.warn(
          `Skipped update history line=${i + 1} file=${file}: not an outcome (torn by a power cut?)`,
        );
    }
    return outcomes;
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

  private write(name: string, value: unknown): Promise<void> {
    return this.writeText(name, `${JSON.stringify(value, null, 2)}\n`);
  }

  private async writeText(name: string, text: string): Promise<void> {
    const file = join(this.dir, name);
    try {
      await writeFileAtomic(file, text);
    } catch (error) {
      throw new UpdateError('E-UPDATE-STATE', `can't write ${file}`, { cause: error });
    }
  }

  /** One line appended and fsynced; past the limit, the oldest lines go (rewritten atomically). */
  private async appendHistory(outcome: UpdateOutcome): Promise<void> {
    const file = join(this.dir, 'history.jsonl');
    try {
      const existed = await stat(file).then(
        () => true,
        () => false,
      );
      // A line torn by a cut during the last append must not swallow this one: start on a new line.
      const handle = await open(file, 'a+', 0o600);
      try {
        const { size } = await handle.stat();
        let torn = false;
        if (size > 0) {
          const last = Buffer.alloc(1);
          await handle.read(last, 0, 1, size - 1);
          torn = last[0] !== 0x0a;
        }
        await handle.writeFile(`${torn ? '\n' : ''}${JSON.stringify(outcome)}\n`, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (!existed) await syncPath(this.dir);
    } catch (error) {
      throw new UpdateError('E-UPDATE-STATE', `can't append to ${file}`, { cause: error });
    }
    const history = await this.readHistory();
    if (history.length > UPDATE_HISTORY_KEPT) {
      const kept = history.slice(-UPDATE_HISTORY_KEPT);
      await this.writeText('history.jsonl', kept.map((o) => `${JSON.stringify(o)}\n`).join(''));
    }
  }

  private async remove(name: string): Promise<void> {
    await rm(join(this.dir, name), { force: true });
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await syncPath(this.dir);
  }
}
