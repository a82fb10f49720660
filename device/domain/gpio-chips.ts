/**
 * Which sysfs GPIO line is a BCM pin of the 40-pin header. Since kernel 6.6 the header's chip no
 * longer starts at 0 (512 on a Pi 4, 571 on a Pi 5), so the line is `base + BCM` of the chip whose
 * label names the SoC's (or RP1's) pin controller, read at run time rather than hard-coded.
 */
export interface GpioChip {
  /** The sysfs entry, e.g. "gpiochip512". */
  readonly name: string;
  readonly label: string;
  readonly base: number;
  readonly ngpio: number;
}

/** Pin controllers that drive the header: Pi 5 (RP1), Pi 4 (BCM2711), Pi 3 and older (BCM2835). */
export const HEADER_CHIP_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

export function findHeaderChip(chips: readonly GpioChip[]): GpioChip | undefined {
  for (const label of HEADER_CHIP_LABELS) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return chip;
  }
  return undefined;
}

/** `name=label(base=…, ngpio=…)` for each chip, for error messages. */
export function describeChips(chips: readonly GpioChip[]): string {
  if (chips.length === 0) return 'none';
  return chips.map((c) => `${c.name}=${c.label}(base=${c.base}, ngpio=${c.ngpio})`).join(', ');
}

export type HeaderLine = { ok: true; line: number; chip: GpioChip } | { ok: false; problem: string };

/** The sysfs line number of header pin `bcm`, or why there is none. */
export function headerLine(chips: readonly GpioChip[], bcm: number): HeaderLine {
  const chip = findHeaderChip(chips);
  if (!chip) {
    return {
      ok: false,
      problem: `no header GPIO chip (${HEADER_CHIP_LABELS.join(', ')}) among the chips found: ${describeChips(chips)}`,
    };
  }
  if (!Number.isInteger(bcm) || bcm < 0 || bcm >= chip.ngpio) {
    return { ok: false, problem: `BCM ${bcm} is outside ${chip.name} (${chip.label}, ${chip.ngpio} lines)` };
  }
  return { ok: true, line: chip.base + bcm, chip };
}
