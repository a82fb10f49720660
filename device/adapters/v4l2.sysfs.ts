import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V4l2Node } from '../domain/v4l2-devices.js';

/** Every `{sysRoot}/class/video4linux/video*` node with its name, index and parent driver. */
export async function readV4l2Nodes(sysRoot = '/sys'): Promise<V4l2Node[]> {
  const dir = join(sysRoot, 'class', 'video4linux');
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const nodes: V4l2Node[] = [];
  for (const node of entries.filter((e) => /^video\d+$/.test(e))) {
    // A camera unplugged between readdir and here leaves no files: skip it, the next check sees the truth.
    const name = await readText(join(dir, node, 'name'));
    const index = Number(await readText(join(dir, node, 'index')));
    if (name === undefined || !Number.isInteger(index)) continue;
    const uevent = parseUevent((await readText(join(dir, node, 'device', 'uevent'))) ?? '');
    nodes.push({ node, name, index, driver: uevent.DRIVER, product: uevent.PRODUCT });
  }
  return nodes;
}

export async function readV4l2Name(sysRoot: string, node: string): Promise<string | undefined> {
  return readText(join(sysRoot, 'class', 'video4linux', node, 'name'));
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

function parseUevent(text: string): Record<string, string | undefined> {
  const fields: Record<string, string | undefined> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields[line.slice(0, eq)] = line.slice(eq + 1).trim();
  }
  return fields;
}
