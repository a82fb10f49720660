import { z } from 'zod';
import { mediaReportSchema } from '../../common/media-report.js';

/** Page → daemon, every few seconds: the page's own media statistics (issue 16). */
export const mediaStatsMessageSchema = z.strictObject({
  type: z.literal('media.stats'),
  report: mediaReportSchema,
});
export type MediaStatsMessage = z.output<typeof mediaStatsMessageSchema>;
