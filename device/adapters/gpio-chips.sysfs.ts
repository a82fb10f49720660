import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { describeIssues } from '../../common/zod-issues.js';
import type { GpioChip } from '../domain/gpio-chips.js';

const decimal = z
  .string()
  .regex(/^\d{1,6}$/, 'expected a decimal number')
  .transform(Number);

const chipSchema = z.strictObject({
  name: z.string().regex(/^gpiochip\d+$/),
  label: z.string().min(1),
  base: decimal,
  ngpio: decimal.refine((n) => n > 0, 'expected at least one line'),
});

/**
 * The GPIO chips the kernel lists in `{sysRoot}/class/gpio/gpiochip*` (label, base, ngpio).
 * A chip whose files are unreadable or malformed is skipped: it cannot be the header anyway,
 * and the caller names every chip it did find when the header is missing.
 */
export async function readGpioChips(sysRoot = '/sys'): Promise<{ chips: GpioChip[]; skipped: string[] }> {
  const dir = join(sysRoot, 'class', 'gpio');
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { chips: [], skipped: [] };
    throw error;
  }
  const chips: GpioChip[] = [];
  const skipped: string[] = [];
  for (const name of entries.filter((e) => /^gpiochip\d+$/.test(e)).sort(byNumber)) {
    const read = (file: string): Promise<string> =>
      readFile(join(dir, name, file), 'utf8').then(
        (text) => text.trim(),
        () => '',
      );
    const [label, base, ngpio] = await Promise.all([read('label'), read('base'), read('ngpio')]);
    const parsed = chipSchema.safeParse({ name, label, base, ngpio });
    if (parsed.success) chips.push(parsed.data);
    else skipped.push(`${name}: ${describeIssues(parsed.error).join('; ')}`);
  }
  return { chips, skipped };
}

function byNumber(a: string, b: string): number {
  return Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, ''));
}
