import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readGpioChips } from '../../../device/adapters/gpio-chips.sysfs.js';
import { headerLine } from '../../../device/domain/gpio-chips.js';

const trees = join(import.meta.dirname, '../../fixtures/hardware/sysfs-gpio');

async function lineOf(tree: string, bcm: number) {
  const { chips } = await readGpioChips(join(trees, tree));
  return headerLine(chips, bcm);
}

describe('header GPIO chip discovery from sysfs', () => {
  it('finds pinctrl-bcm2711 at base 512 on a Pi 4 with kernel 6.6', async () => {
    const found = await lineOf('pi4-kernel-6.6', 17);
    expect(found).toMatchObject({
      ok: true,
      line: 529,
      chip: { name: 'gpiochip512', label: 'pinctrl-bcm2711' },
    });
  });

  it('finds pinctrl-rp1 at base 571 on a Pi 5, not the SoC chips below it', async () => {
    const found = await lineOf('pi5-kernel-6.6', 27);
    expect(found).toMatchObject({ ok: true, line: 598, chip: { name: 'gpiochip571', label: 'pinctrl-rp1' } });
  });

  it('uses base 0 on an older kernel (Pi 3, pinctrl-bcm2835)', async () => {
    const found = await lineOf('pi3-kernel-6.1', 22);
    expect(found).toMatchObject({ ok: true, line: 22, chip: { label: 'pinctrl-bcm2835' } });
  });

  it('reads every chip with its label, base and line count, in numeric order', async () => {
    const { chips, skipped } = await readGpioChips(join(trees, 'pi5-kernel-6.6'));
    expect(skipped).toEqual([]);
    expect(chips.map((c) => `${c.name}:${c.base}+${c.ngpio}`)).toEqual([
      'gpiochip512:512+32',
      'gpiochip544:544+4',
      'gpiochip548:548+17',
      'gpiochip565:565+6',
      'gpiochip571:571+54',
    ]);
  });

  it('names the pin and every chip it found when no header chip exists', async () => {
    const found = await lineOf('pc-no-header', 17);
    expect(found.ok).toBe(false);
    if (found.ok) return;
    expect(found.problem).toContain('pinctrl-rp1, pinctrl-bcm2711, pinctrl-bcm2835');
    expect(found.problem).toContain('gpiochip0=INT34C5:00(base=0, ngpio=360)');
    expect(found.problem).toContain('gpiochip360=ftdi-cbus(base=360, ngpio=4)');
  });

  it('refuses a pin the header chip does not have', async () => {
    const found = await lineOf('pi3-kernel-6.1', 54);
    expect(found).toEqual({ ok: false, problem: 'BCM 54 is outside gpiochip0 (pinctrl-bcm2835, 54 lines)' });
  });

  it('reports no chips on a machine without sysfs GPIO', async () => {
    const { chips } = await readGpioChips(join(trees, 'does-not-exist'));
    expect(chips).toEqual([]);
    expect(headerLine(chips, 17)).toMatchObject({
      ok: false,
      problem: expect.stringContaining('chips found: none'),
    });
  });
});
