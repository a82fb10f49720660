import { Command, CommanderError } from 'commander';
import { VERSION } from '../common/version.js';
import { registerDemoCommands } from '../device/demo.command.js';
import { registerDeviceCommands } from '../device/device.command.js';
import { registerFleetCommands } from '../provisioning/fleet.command.js';
import { registerReleaseCommands } from '../provisioning/release.command.js';

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad config. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('classbox')
    .description('classbox — the classroom box, its fleet server and tools')
    .version(VERSION, '-v, --version')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });

  registerDeviceCommands(program);
  registerDemoCommands(program);
  registerFleetCommands(program);
  registerReleaseCommands(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors with 1, which we map to 2.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof ExitError) return error.code;
    process.stderr.write(`classbox: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}

/** Thrown by a command to end with a given code after printing its own message. */
export class ExitError extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
