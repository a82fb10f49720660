import { Command, CommanderError } from 'commander';
import { VERSION } from '../common/version.js';

type Register = (program: Command) => void;

/**
 * Each command set is loaded only when its command runs (all of them for --help): the box daemon
 * must not pay for the fleet server's database code in start time and memory.
 */
const COMMAND_SETS: Record<string, () => Promise<Register>> = {
  device: async () => (await import('../device/device.command.js')).registerDeviceCommands,
  doctor: async () => (await import('../device/doctor.command.js')).registerDoctorCommands,
  demo: async () => (await import('../device/demo.command.js')).registerDemoCommands,
  fleet: async () => (await import('../provisioning/fleet.command.js')).registerFleetCommands,
  // IT's release tools and the box's own install/recover, under one `release` command.
  release: async () => {
    const [it, box] = await Promise.all([
      import('../provisioning/release.command.js'),
      import('../device/release.command.js'),
    ]);
    return (program) => box.registerBoxReleaseCommands(it.registerReleaseCommands(program));
  },
};

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad config. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('classbox')
    .description('classbox — the classroom box, its fleet server and tools')
    .version(VERSION, '-v, --version')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });

  const first = argv.find((arg) => !arg.startsWith('-'));
  const wanted = first !== undefined && first in COMMAND_SETS ? [first] : Object.keys(COMMAND_SETS);
  for (const name of wanted) (await COMMAND_SETS[name]!())(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors with 1, which we map to 2.
      return error.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`classbox: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}
