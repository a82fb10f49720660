import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { writeFileAtomic } from '../../common/atomic-file.js';

/**
 * Where the teacher's recordings are (issue 21): the media node's `rec_dir`s, one per room,
 * `<dir>/room-<room>/`, each class's files named by the teacher page `teacher-<room>-<startMs>-…`.
 * Beside a fleet server on the node's host this is the node's own folder; elsewhere a shared or synced
 * copy of it. `keepHours`: how long recordings and their cuts are kept.
 */
export abstract class RecordingsOptions {
  abstract readonly dir: string;
  abstract readonly keepHours: number;
}

/** One recorded publisher of a room: its audio and video `.mjr`, as Janus names them. */
export interface RecordingFiles {
  /** The file name without `-audio-0.mjr` / `-video-1.mjr`. */
  readonly base: string;
  readonly audio?: string;
  readonly video?: string;
  /** When Janus last wrote to it: the end of what it holds, near enough. */
  readonly lastWrittenMs: number;
  /** The files' sizes summed: a recording still being written grows. */
  readonly bytes: number;
}

export interface CutMeta {
  readonly room: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly sha256: string;
  readonly size: number;
}

const MJR = /^(.+)-(audio|video)-\d+\.mjr$/;

/** The recordings' folders, and the cuts made of them in `<dir>/.cuts/` (each written whole, then renamed). */
export class RecordingsRepository {
  constructor(private readonly options: RecordingsOptions) {}

  roomDir(room: number): string {
    return join(this.options.dir, `room-${room}`);
  }

  /**
   * The folders a room's recordings may be in: `<dir>/room-<room>` (the fleet on the node's host, or one
   * folder all nodes share) and `<dir>/<node>/room-<room>` (one folder per media node under it, each a
   * mount or a sync of that node's `recordingsDir`).
   */
  private async roomDirs(room: number): Promise<string[]> {
    const folders = await this.nodeFolders();
    return [this.roomDir(room), ...folders.map((f) => join(f, `room-${room}`))];
  }

  private async nodeFolders(): Promise<string[]> {
    const entries = await readdir(this.options.dir, { withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !/^room-\d+$/.test(e.name))
      .map((e) => join(this.options.dir, e.name));
  }

  /** The teacher's recordings of `room` (files named `teacher-…` by the teacher page). */
  async list(room: number): Promise<RecordingFiles[]> {
    const names: string[] = [];
    for (const dir of await this.roomDirs(room)) {
      const here = await readdir(dir).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [] as string[];
        throw error;
      });
      names.push(...here.map((name) => join(dir, name)));
    }
    const byBase = new Map<
      string,
      { audio?: string; video?: string; lastWrittenMs: number; bytes: number }
    >();
    for (const file of names) {
      const name = basename(file);
      const match = MJR.exec(name);
      if (!match || !match[1]!.startsWith('teacher-')) continue;
      const info = await stat(file).catch(() => undefined);
      if (!info) continue;
      const entry = byBase.get(match[1]!) ?? { lastWrittenMs: 0, bytes: 0 };
      entry[match[2] as 'audio' | 'video'] = file;
      entry.lastWrittenMs = Math.max(entry.lastWrittenMs, info.mtimeMs);
      entry.bytes += info.size;
      byBase.set(match[1]!, entry);
    }
    return [...byBase].map(([base, e]) => ({ base, ...e }));
  }

  /** A scratch folder for one cut's conversions; removed by the caller. */
  async scratch(id: string): Promise<string> {
    const dir = join(this.options.dir, '.cuts', `${id}.work-${process.pid}-${Date.now()}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async removeScratch(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }

  /**
   * Where the playable file converted from `mjr` (as it was at `size` bytes) is kept, next to the cuts:
   * every cut of one recording reuses it (a grown recording has a new size, so it is converted again).
   */
  convertedFile(mjr: string, size: number, ext: string): string {
    const key = createHash('sha256').update(mjr).digest('hex').slice(0, 24);
    return join(this.options.dir, '.cuts', `conv-${key}-${size}.${ext}`);
  }

  /** The file if it is there (a finished conversion: it is renamed into place only once whole). */
  async exists(file: string): Promise<boolean> {
    return stat(file).then(
      (info) => info.isFile(),
      () => false,
    );
  }

  /** The size of a recording's file now. */
  async sizeOf(file: string): Promise<number> {
    return (await stat(file)).size;
  }

  /** Move a finished file into place (same folder: atomic, a reader sees it whole or not at all). */
  async publish(made: string, file: string): Promise<void> {
    await rename(made, file);
  }

  cutFile(id: string): string {
    return join(this.options.dir, '.cuts', `${id}.webm`);
  }

  async findCut(id: string): Promise<CutMeta | undefined> {
    try {
      const meta = JSON.parse(
        await readFile(join(this.options.dir, '.cuts', `${id}.json`), 'utf8'),
      ) as CutMeta;
      const info = await stat(this.cutFile(id));
      return info.size === meta.size ? meta : undefined;
    } catch {
      return undefined;
    }
  }

  /** Move a finished cut into place with its hash; a reader never sees a half-made one. */
  async saveCut(id: string, made: string, meta: Omit<CutMeta, 'sha256' | 'size'>): Promise<CutMeta> {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(made)) hash.update(chunk as Buffer);
    const full: CutMeta = { ...meta, sha256: hash.digest('hex'), size: (await stat(made)).size };
    await rename(made, this.cutFile(id));
    await writeFileAtomic(join(this.options.dir, '.cuts', `${id}.json`), JSON.stringify(full), 0o644);
    return full;
  }

  open(id: string, start: number, end: number): Readable {
    return createReadStream(this.cutFile(id), { start, end });
  }

  /** Delete recordings and cuts last written more than `keepHours` ago; returns how many files went. */
  async sweep(nowMs: number): Promise<number> {
    const limit = nowMs - this.options.keepHours * 3600_000;
    let removed = 0;
    const folders: string[] = [];
    for (const parent of [this.options.dir, ...(await this.nodeFolders())]) {
      for (const folder of await readdir(parent).catch(() => [] as string[]))
        if (/^room-\d+$/.test(folder) || (folder === '.cuts' && parent === this.options.dir))
          folders.push(join(parent, folder));
    }
    for (const dir of folders) {
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        const file = join(dir, name);
        const info = await stat(file).catch(() => undefined);
        if (info && info.mtimeMs < limit) {
          await rm(file, { recursive: true, force: true });
          removed++;
        }
      }
    }
    return removed;
  }
}
