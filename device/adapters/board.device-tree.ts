import { Injectable } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BoardPort } from '../ports/board.port.js';

/**
 * The board from the device tree's root `model` property (`/proc/device-tree/model`), which the Raspberry
 * Pi firmware fills in; a PC has no device tree, so no model. Reading it drives no hardware, so sim mode
 * reads it too (a demo on a Pi says it is one).
 */
@Injectable()
export class DeviceTreeBoard extends BoardPort {
  constructor(private readonly procRoot = '/proc') {
    super();
  }

  async model(): Promise<string | undefined> {
    let raw: string;
    try {
      raw = await readFile(join(this.procRoot, 'device-tree', 'model'), 'utf8');
    } catch {
      return undefined;
    }
    // A device-tree string property ends in NUL; keep printable text only, and bound it for the fleet.
    const model = raw
      .replace(/\0+$/, '')
      .replace(/[^\x20-\x7e]/g, '')
      .trim()
      .slice(0, 128);
    return model === '' ? undefined : model;
  }
}
