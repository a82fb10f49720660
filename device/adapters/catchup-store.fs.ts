import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { syncPath, writeFileAtomic } from '../../common/atomic-file.js';
import { missReasonSchema } from '../../common/catchup-protocol.js';
import { describeIssues } from '../../common/zod-issues.js';
import { CatchupError, CatchupStorePort, type CatchupRecord } from '../ports/catchup.port.js';
import { syncedMarkOf } from '../ports/update.port.js';

const interval = z.strictObject({ fromMs: z.number(), toMs: z.number(), reason: missReasonSchema });
const classMisses = z.strictObject({
  classId: z.string(),
  room: z.int(),
  joinedAtMs: z.number(),
  endedAtMs: z.number().optional(),
  missed: z.array(interval),
  openSinceMs: z.number().optional(),
  openReason: missReasonSchema.optional(),
});
const recordSchema = z.strictObject({
  log: z.strictObject({ current: classMisses.optional(), ended: z.array(classMisses) }),
  replays: z.array(
    z.strictObject({
      classId: z.string(),
      fromMs: z.number(),
      toMs: z.number(),
      name: z.string().regex(/^[a-f0-9]{16,64}\.webm$/),
      size: z.int().nonnegative(),
    }),
  ),
  caughtUpMs: z.record(z.string(), z.number().nonnegative()),
  // Absent in records written before parts were counted by how far they were shown.
  watchedMs: z.record(z.string(), z.number().nonnegative()).default({}),
  unavailable: z.record(z.string(), z.string()),
});

const RECORD = 'record.json';
const CUT_ID = /^[a-f0-9]{16,64}$/;
const PART_KEPT_MS = 2 * 86_400_000;

/** `<stateDir>/catchup/`: `record.json` (atomic), `videos/<cutId>.webm`, `videos/<cutId>.part` while fetching. */
export class FsCatchupStore extends CatchupStorePort {
  private readonly dir: string;
  private readonly videos: string;

  constructor(stateDir: string) {
    super();
    this.dir = join(stateDir, 'catchup');
    this.videos = join(this.dir, 'videos');
  }

  async read(): Promise<CatchupRecord | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.dir, RECORD), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CatchupError('E-CATCHUP-STATE', `can't read ${RECORD}`, { cause: error });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new CatchupError('E-CATCHUP-STATE', `${RECORD} is not JSON`, { cause: error });
    }
    const parsed = recordSchema.safeParse(raw);
    if (!parsed.success)
      throw new CatchupError(
        'E-CATCHUP-STATE',
        `invalid ${RECORD}: ${describeIssues(parsed.error).join('; ')}`,
      );
    return parsed.data;
  }

  async save(record: CatchupRecord): Promise<void> {
    try {
      await writeFileAtomic(join(this.dir, RECORD), JSON.stringify(record));
    } catch (error) {
      throw new CatchupError('E-CATCHUP-STATE', `can't save ${RECORD}`, { cause: error });
    }
  }

  partFile(cutId: string): string {
    if (!CUT_ID.test(cutId)) throw new CatchupError('E-CATCHUP-STATE', `not a cut id: ${cutId}`);
    return join(this.videos, `${cutId}.part`);
  }

  async commit(cutId: string, expected: { size: number; sha256: string }): Promise<string> {
    const part = this.partFile(cutId);
    const size = (await stat(part)).size;
    const sha256 = await hashFile(part);
    if (size !== expected.size || sha256 !== expected.sha256) {
      await this.remove(`${cutId}.part`);
      throw new CatchupError(
        'E-CATCHUP-HASH',
        `the video ${cutId} has ${size} bytes and SHA-256 ${sha256.slice(0, 12)}…, the server said ${expected.size} and ${expected.sha256.slice(0, 12)}…`,
      );
    }
    const name = `${cutId}.webm`;
    await rename(part, join(this.videos, name));
    await rm(syncedMarkOf(part), { force: true });
    await syncPath(this.videos);
    return name;
  }

  async remove(name: string): Promise<void> {
    if (!/^[a-f0-9]{16,64}\.(webm|part)$/.test(name)) return;
    const file = join(this.videos, name);
    await rm(file, { force: true });
    await rm(syncedMarkOf(file), { force: true });
  }

  async removeStray(keep: readonly string[]): Promise<void> {
    const names = await readdir(this.videos).catch(() => [] as string[]);
    const wanted = new Set(keep);
    for (const name of names) {
      if (wanted.has(name)) continue;
      const file = join(this.videos, name);
      // A part is resumed when the same cut is asked for again (its id is the same): kept two days.
      const part = name.endsWith('.part') || name.endsWith('.part.synced');
      const age = Date.now() - ((await stat(file).catch(() => undefined))?.mtimeMs ?? 0);
      if (part && age < PART_KEPT_MS) continue;
      await rm(file, { force: true, recursive: true });
    }
  }

  async freeBytes(): Promise<number> {
    await mkdir(this.videos, { recursive: true, mode: 0o700 });
    const s = await statfs(this.videos);
    return s.bavail * s.bsize;
  }

  async open(name: string): Promise<{ size: number; read(start: number, end: number): Readable }> {
    if (!/^[a-f0-9]{16,64}\.webm$/.test(name))
      throw new CatchupError('E-CATCHUP-STATE', `not a video name: ${name}`);
    const file = join(this.videos, name);
    const { size } = await stat(file);
    return { size, read: (start, end) => createReadStream(file, { start, end }) };
  }
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
