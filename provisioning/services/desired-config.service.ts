import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { desiredConfigSchema, type DesiredConfig } from '../../common/fleet-protocol.js';
import { notFound } from '../fleet-errors.js';
import { FleetRepository, type CentreRow } from '../repositories/fleet.repository.js';
import { roomOf, timetableOf } from './centres.service.js';

/** What a box should run, built from its centre and its own row; the ETag is a hash of it. */
@Injectable()
export class DesiredConfigService {
  constructor(private readonly repo: FleetRepository) {}

  async forDevice(deviceId: string): Promise<{ config: DesiredConfig; etag: string }> {
    const device = await this.repo.findDevice(deviceId);
    if (!device) throw notFound('device', deviceId);
    const centre = await this.repo.findCentre(device.centre_id);
    if (!centre) throw notFound('centre', device.centre_id);
    return desiredConfigFor(centre, device.display_name);
  }
}

/** The desired config of a box of `centre` named `displayName`; throws when the centre's settings are invalid. */
export function desiredConfigFor(
  centre: CentreRow,
  displayName: string,
): { config: DesiredConfig; etag: string } {
  const room = roomOf(centre);
  const config = desiredConfigSchema.parse({
    device: { displayName, centreName: centre.name },
    janus: {
      url: room.janusUrl,
      room: room.room,
      pin: room.pin,
      token: room.token,
      apiSecret: room.apiSecret,
      bitrateKbps: room.bitrateKbps,
      iceServers: room.iceServers,
    },
    timetable: timetableOf(centre),
    timezone: centre.timezone,
  });
  return { config, etag: etagOf(config) };
}

export function etagOf(value: unknown): string {
  return `"${createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 27)}"`;
}
