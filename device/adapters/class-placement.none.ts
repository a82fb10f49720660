import { Injectable } from '@nestjs/common';
import type { ClassPlacement } from '../../common/fleet-protocol.js';
import { ClassPlacementPort } from '../ports/class-placement.port.js';

/** A box without a fleet server: nobody to ask, so its config's URL and fallbacks are all it has. */
@Injectable()
export class NoClassPlacement extends ClassPlacementPort {
  locate(): Promise<ClassPlacement | undefined> {
    return Promise.resolve(undefined);
  }
}
