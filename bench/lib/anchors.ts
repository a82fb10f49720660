import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bindNotifySocket, spawnNode, type NotifySocket, type Spawned } from './processes.js';

const EMPTY_NEST = join(dirname(fileURLToPath(import.meta.url)), '..', 'anchors', 'empty-nest.js');

export interface EmptyNest {
  readonly proc: Spawned;
  /** Spawn → READY=1, in ms. */
  readonly startMs: number;
  stop(): Promise<void>;
}

/** Start an empty Nest app (`context` or `http`) in a child process and time it to READY=1. */
export async function startEmptyNest(mode: 'context' | 'http'): Promise<EmptyNest> {
  const dir = await mkdtemp(join(tmpdir(), 'classbox-bench-nest-'));
  const notify: NotifySocket = bindNotifySocket(dir);
  const proc = spawnNode([EMPTY_NEST, mode], { NOTIFY_SOCKET: notify.path });
  const stop = async (): Promise<void> => {
    await proc.stop();
    notify.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const readyAt = await Promise.race([
      notify.waitFor('READY', '1', 30_000),
      proc.exited.then(() => {
        throw new Error(`the empty Nest app exited before READY=1: ${proc.output()}`);
      }),
    ]);
    return { proc, startMs: readyAt - proc.spawnedAt, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
