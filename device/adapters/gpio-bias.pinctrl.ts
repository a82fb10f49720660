import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { GpioBiasError, GpioBiasPort, type GpioBias } from '../ports/gpio-bias.port.js';
import { ProcessPort } from '../ports/process.port.js';

const TIMEOUT_MS = 5000;
const PULL_ARG: Record<GpioBias, 'pu' | 'pd'> = { 'pull-up': 'pu', 'pull-down': 'pd' };

/**
 * Pulls through Raspberry Pi's `pinctrl` (raspi-utils; raspberrypi/utils pinctrl/pinctrl.c): `pinctrl set
 * 17 ip pu`, then `pinctrl get 17` to check it took, since pinctrl reports some failures only on stdout.
 * It writes the GPIO registers through /dev/gpiomem*, which the package's udev rules give group gpio.
 */
export class PinctrlGpioBias extends GpioBiasPort {
  private readonly log = createLogger(PinctrlGpioBias.name);

  constructor(
    private readonly processes: ProcessPort,
    private readonly command = 'pinctrl',
  ) {
    super();
  }

  async ensureBias(bcm: number, bias: GpioBias): Promise<void> {
    // Only a validated number reaches the argument array (the schema allows 2–27; checked again here).
    if (!Number.isInteger(bcm) || bcm < 2 || bcm > 27)
      throw new GpioBiasError(`BCM ${bcm} is not a header GPIO (2 to 27)`);
    const pull = PULL_ARG[bias];
    const run = async (args: string[]) => {
      try {
        return await this.processes.run({ label: 'pinctrl', command: this.command, args }, TIMEOUT_MS);
      } catch (error) {
        throw new GpioBiasError(
          `can't run pinctrl (${reason(error)}): install raspi-utils, or rely on config.txt's gpio=${bcm}=ip,${pull}`,
          { cause: error },
        );
      }
    };
    const set = await run(['set', String(bcm), 'ip', pull]);
    if (set.code !== 0)
      throw new GpioBiasError(`pinctrl set ${bcm} ip ${pull} failed (exit ${set.code}): ${said(set)}`);
    const get = await run(['get', String(bcm)]);
    const state = parsePinctrlGet(get.stdout, bcm);
    if (get.code !== 0 || !state)
      throw new GpioBiasError(`pinctrl get ${bcm} gave no state (exit ${get.code}): ${said(get)}`);
    if (state.pull !== pull)
      throw new GpioBiasError(
        `GPIO ${bcm} still has pull "${state.pull}" after pinctrl set ${bcm} ip ${pull}`,
      );
    this.log.info(`Set GPIO bias bcm=${bcm} bias=${bias} level=${state.level}`);
  }
}

/** One line of `pinctrl get N`, e.g. `17: ip    pu | hi // GPIO17 = input`. */
export function parsePinctrlGet(
  stdout: string,
  bcm: number,
): { fsel: string; pull: string; level: string } | undefined {
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\d+):\s*(\S+)\s+(?:d[hl]\s+)?(pu|pd|pn|--)\s*\|\s*(hi|lo|--)/.exec(line);
    if (m && Number(m[1]) === bcm) return { fsel: m[2]!, pull: m[3]!, level: m[4]! };
  }
  return undefined;
}

function said(result: { stdout: string; stderr: string }): string {
  return `${result.stdout} ${result.stderr}`.trim().slice(0, 200) || 'no output';
}
