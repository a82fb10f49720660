import { Injectable } from '@nestjs/common';
import type { Updateable } from 'kysely';
import {
  roomSettingsSchema,
  timetableSchema,
  type RoomSettings,
  type TimetableEntry,
} from '../../common/fleet-protocol.js';
import { createLogger } from '../../common/logger.js';
import type { CentresTable } from '../db/schema.js';
import { FleetApiError, notFound } from '../fleet-errors.js';
import type { CreateCentre, PatchCentre } from '../protocol/admin-api.schema.js';
import { FleetRepository, type CentreRow } from '../repositories/fleet.repository.js';
import { FleetClock } from './fleet-options.js';
import type { CentreView } from '../protocol/admin-views.schema.js';
export type { CentreView };

@Injectable()
export class CentresService {
  private readonly log = createLogger(CentresService.name);

  constructor(
    private readonly repo: FleetRepository,
    private readonly clock: FleetClock,
  ) {}

  async list(): Promise<CentreView[]> {
    return (await this.repo.listCentres()).map(toView);
  }

  async get(id: string): Promise<CentreView> {
    return toView(await this.row(id));
  }

  async row(id: string): Promise<CentreRow> {
    const row = await this.repo.findCentre(id);
    if (!row) throw notFound('centre', id);
    return row;
  }

  async create(input: CreateCentre): Promise<CentreView> {
    const now = this.clock.now().toISOString();
    const inserted = await this.repo.insertCentre({
      id: input.id,
      name: input.name,
      region: input.region,
      room_json: JSON.stringify(input.room),
      timetable_json: JSON.stringify(input.timetable),
      timezone: input.timezone,
      created_at: now,
      updated_at: now,
    });
    if (!inserted)
      throw new FleetApiError(409, 'E-CONFLICT', `a centre with id "${input.id}" exists already`);
    this.log.info(`Created centre centre=${input.id}`);
    return this.get(input.id);
  }

  async patch(id: string, input: PatchCentre): Promise<CentreView> {
    const row = await this.row(id);
    const patch: Updateable<CentresTable> = { updated_at: this.clock.now().toISOString() };
    if (input.name !== undefined) patch.name = input.name;
    if (input.region !== undefined) patch.region = input.region;
    if (input.timezone !== undefined) patch.timezone = input.timezone;
    if (input.timetable !== undefined) patch.timetable_json = JSON.stringify(input.timetable);
    if (input.room !== undefined) {
      // The dashboard never sees the secrets, so a room saved without them keeps the old ones.
      const old = roomOf(row);
      patch.room_json = JSON.stringify({
        ...input.room,
        pin: input.room.pin ?? old.pin,
        token: input.room.token ?? old.token,
        apiSecret: input.room.apiSecret ?? old.apiSecret,
      });
    }
    await this.repo.updateCentre(id, patch);
    // On media nodes the fleet makes the class's room (issue 19): at its next check, under the new number.
    if (input.room !== undefined && input.room.room !== roomOf(row).room)
      await this.repo.updatePlacementRoom(id, input.room.room);
    this.log.info(`Changed centre centre=${id} fields=${Object.keys(input).join(',')}`);
    return this.get(id);
  }
}

/** The stored JSON was validated on the way in; parsing again guards against hand edits. */
export function roomOf(row: Pick<CentreRow, 'room_json'>): RoomSettings {
  return roomSettingsSchema.parse(JSON.parse(row.room_json));
}

export function timetableOf(row: Pick<CentreRow, 'timetable_json'>): TimetableEntry[] {
  return timetableSchema.parse(JSON.parse(row.timetable_json));
}

function toView(row: CentreRow): CentreView {
  const { pin, token, apiSecret, ...room } = roomOf(row);
  return {
    id: row.id,
    name: row.name,
    region: row.region,
    room: {
      ...room,
      pinSet: pin !== undefined,
      tokenSet: token !== undefined,
      apiSecretSet: apiSecret !== undefined,
    },
    timetable: timetableOf(row),
    timezone: row.timezone,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
