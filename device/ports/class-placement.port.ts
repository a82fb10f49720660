import type { ClassPlacement } from '../../common/fleet-protocol.js';

/**
 * "Where is my class now?" (issue 19): the fleet's answer for a box that lost its Janus, so it follows
 * a class the fleet moved to another media node without waiting for its next heartbeat.
 */
export abstract class ClassPlacementPort {
  /**
   * The class's node, room and fallbacks; undefined when the box has no fleet or its class is on no
   * media node. Throws a FleetError when the fleet can't be asked (the box then walks its fallbacks).
   */
  abstract locate(): Promise<ClassPlacement | undefined>;
}
