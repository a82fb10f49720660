import { readFile } from 'node:fs/promises';
import { ClassboxError, reason } from '../../common/errors.js';
import { describeIssues } from '../../common/zod-issues.js';
import { FsFleetState } from '../adapters/fleet-state.fs.js';
import { FleetError } from '../ports/fleet.port.js';
import { layerConfig, UNENROLLED_IDENTITY } from './config-layers.js';
import { deviceConfigSchema, type DeviceConfig } from './device-config.schema.js';

/** A config the daemon can't start with; `lines` name each problem, one per line. */
export class ConfigError extends ClassboxError<'E-CONFIG'> {
  constructor(
    readonly file: string,
    readonly lines: string[],
    options?: { cause?: unknown },
  ) {
    super('E-CONFIG', `Invalid config ${file}: ${lines.join('; ')}`, options);
  }
}

export function parseDeviceConfig(raw: unknown, file: string): DeviceConfig {
  const result = deviceConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(file, describeIssues(result.error));
  return result.data;
}

export async function loadDeviceConfig(file: string): Promise<DeviceConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : String(code ?? error);
    throw new ConfigError(file, [`can't read config file ${file}: ${why}`], { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, [`${file} is not valid JSON: ${(error as Error).message}`], { cause: error });
  }
  return parseDeviceConfig(await withFleetLayers(raw, file), file);
}

const DEFAULT_STATE_DIR = '/var/lib/classbox';
const DEFAULT_ENROLMENT_FILE = '/boot/firmware/classbox-enrol.json';

/**
 * A fleet box's config file does not know who the box is: its identity comes from the saved
 * enrolment (or, at first boot, the enrolment seed; without either, a placeholder until it enrols)
 * and its room from the last good config the fleet sent. Without `fleet`, the file is used as it is.
 */
async function withFleetLayers(raw: unknown, file: string): Promise<unknown> {
  const fleet = (raw as { fleet?: unknown } | null)?.fleet;
  if (typeof fleet !== 'object' || fleet === null) return raw;
  const stateDir = stringOr((raw as { stateDir?: unknown }).stateDir, DEFAULT_STATE_DIR);
  const seedFile = stringOr((fleet as { enrolmentFile?: unknown }).enrolmentFile, DEFAULT_ENROLMENT_FILE);
  const state = new FsFleetState(stateDir);
  try {
    const enrolment = await state.readEnrolment();
    const seed = enrolment ? undefined : await state.readSeed(seedFile);
    const identity = enrolment
      ? { id: enrolment.deviceId, displayName: enrolment.displayName }
      : seed
        ? { id: seed.deviceId, displayName: seed.displayName }
        : UNENROLLED_IDENTITY;
    // A damaged saved config must not keep the box from starting: the fleet sends it again.
    const desired = await state.readDesired().catch((error: unknown) => {
      process.stderr.write(`classbox device: ignoring the saved fleet config: ${reason(error)}\n`);
      return undefined;
    });
    return layerConfig(raw, identity, desired?.config);
  } catch (error) {
    if (error instanceof FleetError) throw new ConfigError(file, [error.message], { cause: error });
    throw error;
  }
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value.length > 0 ? value : fallback;
}
