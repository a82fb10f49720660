import { chmod, mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Write `text` (with a final newline) so that a power cut leaves the old content or the new, never a
 * mix: a temp file beside it, fsync, rename, then fsync of the folder. Mode 0600 by default: the
 * files written this way hold keys, tokens and room pins. For the adapters that keep state on a
 * box's SD card or write seeds for one.
 */
export async function writeFileAtomic(file: string, text: string, mode = 0o600): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.tmp-${process.pid}`;
  const handle = await open(temp, 'w', mode);
  try {
    await handle.writeFile(text.endsWith('\n') ? text : `${text}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  // A temp file left by an earlier crash keeps its old mode when opened again.
  await chmod(temp, mode);
  await rename(temp, file);
  await syncPath(dirname(file));
}

/**
 * fsync a file or a folder. A rename or a removal is durable only once its folder is synced; a file
 * written by someone else (an unpacked tree) only once it is.
 */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
