import { readFile } from 'node:fs/promises';
import { describeIssues } from '../../common/zod-issues.js';
import { deviceConfigSchema, type DeviceConfig } from './device-config.schema.js';

/** A config the daemon can't start with; `lines` name each problem, one per line. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly lines: string[],
    options?: { cause?: unknown },
  ) {
    super(`Invalid config ${file}: ${lines.join('; ')}`, options);
    this.name = 'ConfigError';
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
  return parseDeviceConfig(raw, file);
}
