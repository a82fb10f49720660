import type { DesiredConfig } from '../../common/fleet-protocol.js';

/** Who the box is, from its enrolment seed (first boot) or its saved enrolment state. */
export interface FleetIdentity {
  readonly id: string;
  readonly displayName: string;
}

/**
 * Who a fleet box is before it has enrolled and without a seed to enrol with (a card flashed without
 * one, or a seed the fleet refused): it still starts, shows the tutor that it is not enrolled and keeps
 * looking for a seed, instead of failing its config check and being restarted by systemd forever.
 * A placeholder only: the box reports itself as not enrolled (status, screen), and the fleet client
 * puts the enrolled identity in the config when it enrols.
 */
export const UNENROLLED_IDENTITY: FleetIdentity = {
  id: 'unenrolled',
  displayName: '未登记设备 Unenrolled box',
};

type Raw = Record<string, unknown>;

const isObject = (value: unknown): value is Raw =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The effective raw config of a fleet box, before validation:
 * config file ← identity (`device.id`, `device.displayName`) ← the last good config the fleet sent.
 * Pure: the caller reads the files and validates the result with the device config schema.
 */
export function layerConfig(file: unknown, identity?: FleetIdentity, desired?: DesiredConfig): unknown {
  if (!isObject(file)) return file;
  let raw: Raw = { ...file };
  if (identity) {
    raw.device = {
      ...(isObject(raw.device) ? raw.device : {}),
      id: identity.id,
      displayName: identity.displayName,
    };
  }
  if (desired) raw = applyDesired(raw, desired);
  return raw;
}

/**
 * Lay the fleet's desired config over a raw config. When the fleet sends Janus settings it
 * owns the room's secrets and fallback nodes: a pin, token, API secret or fallback list it no
 * longer sends is removed, so IT can take a pin off a room.
 */
export function applyDesired(base: Raw, desired: DesiredConfig): Raw {
  const raw: Raw = { ...base };
  if (desired.device) {
    raw.device = { ...(isObject(raw.device) ? raw.device : {}), ...definedOnly(desired.device) };
  }
  if (desired.janus) {
    const janus: Raw = { ...(isObject(raw.janus) ? raw.janus : {}) };
    // The fallback nodes (issue 19) are the fleet's too: a list it no longer sends is dropped.
    for (const owned of ['pin', 'token', 'apiSecret', 'fallbackUrls'] as const) delete janus[owned];
    raw.janus = { ...janus, ...definedOnly(desired.janus) };
  }
  if (desired.session) {
    raw.session = { ...(isObject(raw.session) ? raw.session : {}), ...definedOnly(desired.session) };
  }
  return raw;
}

function definedOnly(section: object): Raw {
  return Object.fromEntries(Object.entries(section).filter(([, value]) => value !== undefined));
}
