const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;

/**
 * The one way the IT tools read a duration (`fleet token create --expires`, `fleet admin create
 * --expires`, `flash --expires-in`): a unit is required, so `7` is refused rather than read as 7 seconds.
 */
export const DURATION_HINT = 'expected a duration such as 90s, 30m, 12h, 7d or 2w';

/** How long an enrolment token may live: the admin API's bound (`mintTokensSchema`). */
export const TOKEN_LIFETIME = { minSeconds: 60, maxSeconds: 90 * 86_400 } as const;

/** `90s`, `30m`, `12h`, `7d`, `2w` → seconds; undefined when it is not such a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}

/** A duration within bounds, in seconds; throws an Error whose message says what is wrong. */
export function parseDurationWithin(
  text: string,
  bounds: { readonly minSeconds: number; readonly maxSeconds: number },
): number {
  const seconds = parseDuration(text);
  if (seconds === undefined) throw new Error(`"${text}" is not a duration (${DURATION_HINT})`);
  if (seconds < bounds.minSeconds || seconds > bounds.maxSeconds)
    throw new Error(`"${text}" is outside ${describe(bounds.minSeconds)} to ${describe(bounds.maxSeconds)}`);
  return seconds;
}

function describe(seconds: number): string {
  for (const [size, one, many] of [
    [86_400, 'day', 'days'],
    [3600, 'hour', 'hours'],
    [60, 'minute', 'minutes'],
  ] as const) {
    if (seconds % size === 0) return seconds === size ? `1 ${one}` : `${seconds / size} ${many}`;
  }
  return `${seconds} seconds`;
}
