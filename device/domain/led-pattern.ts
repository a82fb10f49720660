import type { SessionState } from './class-session.machine.js';

/** What the status LED shows; readable from /api/status so IT (and tests) see what a tutor sees. */
export type LedPattern = 'off' | 'solid' | 'slow-blink' | 'fast-blink' | 'double-blink';

export function statusLedPattern(state: SessionState, selfTestRunning: boolean): LedPattern {
  if (selfTestRunning) return 'double-blink';
  switch (state) {
    case 'idle':
      return 'off';
    case 'joining':
    case 'reconnecting':
    case 'leaving':
      return 'slow-blink';
    case 'live':
      return 'solid';
    case 'error':
      return 'fast-blink';
  }
}

/** The LED level of a pattern at time `t` (ms). Slow 1 Hz, fast 4 Hz, double: two flashes a second. */
export function ledLevelAt(pattern: LedPattern, t: number): 0 | 1 {
  switch (pattern) {
    case 'off':
      return 0;
    case 'solid':
      return 1;
    case 'slow-blink':
      return t % 1000 < 500 ? 1 : 0;
    case 'fast-blink':
      return t % 250 < 125 ? 1 : 0;
    case 'double-blink': {
      const phase = t % 1000;
      return phase < 100 || (phase >= 200 && phase < 300) ? 1 : 0;
    }
  }
}

/** How often the LED must be updated to draw the pattern. */
export const LED_TICK_MS = 50;
