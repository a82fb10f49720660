import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { desiredConfigSchema, type DesiredConfig } from '../../common/fleet-protocol.js';
import { notFound } from '../fleet-errors.js';
import type { SignedDeviceRow } from '../repositories/device-hot-path.repository.js';
import { FleetRepository, type CentreRow } from '../repositories/fleet.repository.js';
import { roomOf, timetableOf } from './centres.service.js';

/** What the config is built from: the device's name and its centre's settings, as stored. */
interface ConfigSource {
  display_name: string;
  centre_name: string;
  room_json: string;
  timetable_json: string;
  timezone: string;
  /** The class's media node URLs, primary first (issue 19); absent or null while it is not placed. */
  placement_urls_json?: string | null;
}

/** Built configs by their stored source: one entry per box (its name is in the config). */
const MAX_CACHED_CONFIGS = 20_000;

/**
 * What a box should run, built from its centre and its own row; the ETag is a hash of it.
 * Building it (schema parse, time zone check, hash) costs more than the rest of a heartbeat, and
 * every heartbeat needs the ETag: it is built again only when what it is built from changed. The
 * cache is keyed by the stored text itself, so a change made through another replica is seen at once.
 */
@Injectable()
export class DesiredConfigService {
  private readonly built = new Map<string, { config: DesiredConfig; etag: string }>();

  constructor(private readonly repo: FleetRepository) {}

  async forDevice(deviceId: string): Promise<{ config: DesiredConfig; etag: string }> {
    const device = await this.repo.findDevice(deviceId);
    if (!device) throw notFound('device', deviceId);
    const centre = await this.repo.findCentre(device.centre_id);
    if (!centre) throw notFound('centre', device.centre_id);
    return this.forSignedDevice({ ...centre, display_name: device.display_name, centre_name: centre.name });
  }

  /** The config of a device from the row its signed request was checked with (no further reads). */
  forSignedDevice(source: ConfigSource | SignedDeviceRow): { config: DesiredConfig; etag: string } {
    const key = JSON.stringify([
      source.display_name,
      source.centre_name,
      source.room_json,
      source.timetable_json,
      source.timezone,
      source.placement_urls_json ?? null,
    ]);
    let entry = this.built.get(key);
    if (!entry) {
      const config = build(source);
      entry = { config, etag: etagOf(config) };
      if (this.built.size >= MAX_CACHED_CONFIGS) this.built.delete(this.built.keys().next().value!);
      this.built.set(key, entry);
    }
    return entry;
  }
}

function build(source: ConfigSource): DesiredConfig {
  const room = roomOf(source);
  // A placed class goes to its media node; the centre's own Janus URL serves a fleet without nodes.
  const [placed, ...fallbackUrls] = source.placement_urls_json
    ? (JSON.parse(source.placement_urls_json) as string[])
    : [];
  return desiredConfigSchema.parse({
    device: { displayName: source.display_name, centreName: source.centre_name },
    janus: {
      url: placed ?? room.janusUrl,
      fallbackUrls: placed !== undefined ? fallbackUrls : undefined,
      room: room.room,
      pin: room.pin,
      token: room.token,
      apiSecret: room.apiSecret,
      bitrateKbps: room.bitrateKbps,
      iceServers: room.iceServers,
    },
    timetable: timetableOf(source),
    timezone: source.timezone,
  });
}

/** The desired config of a box of `centre` named `displayName`; throws when the centre's settings are invalid. */
export function desiredConfigFor(
  centre: CentreRow,
  displayName: string,
  placementUrls: string | null = null,
): { config: DesiredConfig; etag: string } {
  const config = build({
    ...centre,
    display_name: displayName,
    centre_name: centre.name,
    placement_urls_json: placementUrls,
  });
  return { config, etag: etagOf(config) };
}

export function etagOf(value: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 27)}"`;
}
