import { describe } from 'vitest';

/**
 * Whether something a suite needs from outside (Chromium, PostgreSQL) is on this machine. In CI
 * (`CI` set) a missing one fails the run, so a suite can't vanish there unnoticed; elsewhere the
 * suite stays in the run as counted skips, one per test.
 */
export function required(what: string, present: boolean): boolean {
  if (!present && process.env.CI) throw new Error(`CI needs ${what}, and this machine has none`);
  return present;
}

/**
 * `describe.each` over databases (or any named variants) that skips the unavailable ones as whole
 * suites: each of their tests is listed and counted as skipped, not replaced by a single line.
 */
export function describeEach<T extends { readonly name: string; readonly available?: boolean }>(
  items: readonly T[],
): (title: string, body: (item: T) => void) => void {
  return (title, body) => {
    for (const item of items)
      describe.skipIf(item.available === false)(title.replace('$name', item.name), () => body(item));
  };
}
