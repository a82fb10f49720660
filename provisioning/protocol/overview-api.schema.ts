import { z } from 'zod';
import { centreId } from '../../common/fleet-protocol.js';
import { deviceViewSchema } from './admin-views.schema.js';

/**
 * The dashboard's overview of the fleet (`GET /api/v1/admin/overview`): one page of boxes, chosen,
 * filtered and sorted by the server, so a browser watching 10,000 boxes never holds more than a page.
 * The dashboard's TypeScript takes its types from here (type-only imports: no zod in the bundle).
 */

export const OVERVIEW_STATUSES = ['online', 'offline', 'in-class', 'problem', 'update-failed'] as const;
export const OVERVIEW_SORTS = ['centre', 'box', 'region', 'last-seen', 'version', 'status'] as const;

export const overviewQuerySchema = z.strictObject({
  /** Part of a box id or name, a centre id or name, or a region; case-insensitive. */
  q: z.string().trim().max(64).optional(),
  region: z.string().trim().min(1).max(64).optional(),
  centre: centreId.optional(),
  /** offline: no heartbeat within the offline window; problem: a peripheral not ok or an error code. */
  status: z.enum(OVERVIEW_STATUSES).optional(),
  version: z.string().trim().min(1).max(64).optional(),
  sort: z.enum(OVERVIEW_SORTS).default('centre'),
  dir: z.enum(['asc', 'desc']).default('asc'),
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});
export type OverviewQuery = z.output<typeof overviewQuerySchema>;
export type OverviewStatus = (typeof OVERVIEW_STATUSES)[number];
export type OverviewSort = (typeof OVERVIEW_SORTS)[number];

/** One box as the dashboard lists it (`DeviceView` of the devices API, plus its centre). */
export const overviewRowSchema = deviceViewSchema.extend({ centreName: z.string(), region: z.string() });
export type OverviewRow = z.output<typeof overviewRowSchema>;

const countsSchema = z.object({
  centres: z.number().int(),
  boxes: z.number().int(),
  online: z.number().int(),
  inClass: z.number().int(),
  /** Offline, a problem, or a failed update. */
  attention: z.number().int(),
});
export type OverviewCounts = z.output<typeof countsSchema>;

export const overviewSchema = z.object({
  /** Boxes matching the search and filters (all pages). */
  total: z.number().int(),
  page: z.number().int(),
  pageSize: z.number().int(),
  pages: z.number().int(),
  rows: z.array(overviewRowSchema),
  /** The whole fleet, whatever the filters. */
  summary: countsSchema,
  /** The whole fleet by region, for the grouped view. */
  regions: z.array(countsSchema.extend({ region: z.string() })),
  /** Versions running in the fleet, for the version filter. */
  versions: z.array(z.string()),
});
export type Overview = z.output<typeof overviewSchema>;

/** `GET /api/v1/admin/overview/groups`: the fleet by region, or (with `region`) that region's centres. */
export const overviewGroupsQuerySchema = z.strictObject({
  region: z.string().trim().min(1).max(64).optional(),
});

export const overviewGroupsSchema = z.object({
  /** Present when the groups are the centres of this region. */
  region: z.string().optional(),
  groups: z.array(
    countsSchema.extend({
      /** The region's name, or the centre's id. */
      id: z.string(),
      name: z.string(),
      offline: z.number().int(),
      /** A peripheral not ok or an error code. */
      problem: z.number().int(),
      updateFailed: z.number().int(),
    }),
  ),
});
export type OverviewGroups = z.output<typeof overviewGroupsSchema>;
