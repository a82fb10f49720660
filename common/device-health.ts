import { z } from 'zod';

/**
 * How one peripheral of a box is doing: on its idle screen, in /api/status, in its heartbeat and
 * on the fleet dashboard. One schema for all of them, so the four can't drift apart.
 * `unchecked`: not looked at yet (start-up), so neither "ok" nor a fault.
 */
export const deviceHealthSchema = z.strictObject({
  status: z.enum(['ok', 'missing', 'error', 'unchecked']),
  /** Stable code for IT when not ok, e.g. `E-CAMERA-MISSING`. */
  code: z.string().max(64).optional(),
  /** Plain detail (the device's name, what failed). */
  detail: z.string().max(500).optional(),
});
export type DeviceHealth = Readonly<z.output<typeof deviceHealthSchema>>;
