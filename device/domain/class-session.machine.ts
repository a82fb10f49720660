/**
 * The class session as pure logic: what a button or a Janus event does in each state.
 * It knows nothing of Nest, Janus or time; the ClassSessionService carries out the effects.
 */

export const SESSION_STATES = ['idle', 'joining', 'live', 'leaving', 'reconnecting', 'error'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export interface SessionSnapshot {
  readonly state: SessionState;
  /** Stable code for IT while in `error` (e.g. `E-JANUS-UNREACHABLE`). */
  readonly errorCode?: string;
  /** Detail for logs and the error screen; never a secret. */
  readonly errorDetail?: string;
}

export type SessionEvent =
  /**
   * The class button went down (debounced). A class starts here, not on the release: the press
   * itself and the debounce are all that come before the signalling (issue 17).
   */
  | { type: 'classPressed' }
  /** The class button came up before the end hold, after a press that did nothing on its own. */
  | { type: 'classReleasedShort' }
  /** The class button has been held long enough to end a class. */
  | { type: 'classEndHoldReached' }
  /** The mute button has been held long enough to start the self-test (idle or error screen). */
  | { type: 'selfTestHoldReached' }
  | { type: 'joined' }
  | { type: 'joinFailed'; code: string; detail?: string }
  | { type: 'left' }
  /** Janus, the network or the kiosk went away while in class. */
  | { type: 'connectionLost'; code: string; detail?: string }
  | { type: 'rejoined' }
  /** The daemon is stopping or a remote action ends the class. */
  | { type: 'endRequested' };

export type SessionEffect =
  | { type: 'join' }
  | { type: 'leave' }
  | { type: 'rejoin' }
  | { type: 'startSelfTest' }
  /** A short press while live: tell the tutor to hold the button to end the class. */
  | { type: 'showHint'; hint: 'holdToEnd' | 'busy' };

export interface Transition {
  readonly next: SessionSnapshot;
  readonly effects: readonly SessionEffect[];
}

export const INITIAL_SESSION: SessionSnapshot = { state: 'idle' };

/** Idle or on the error screen: a config change, a reboot or an update may happen now, not in a class. */
export function isBetweenClasses(state: SessionState): boolean {
  return state === 'idle' || state === 'error';
}

const stay = (s: SessionSnapshot, ...effects: SessionEffect[]): Transition => ({ next: s, effects });
const go = (state: SessionState, ...effects: SessionEffect[]): Transition => ({ next: { state }, effects });

export function transition(current: SessionSnapshot, event: SessionEvent): Transition {
  switch (current.state) {
    case 'idle':
      switch (event.type) {
        case 'classPressed':
          return go('joining', { type: 'join' });
        case 'selfTestHoldReached':
          return stay(current, { type: 'startSelfTest' });
        default:
          return stay(current);
      }
    case 'joining':
      switch (event.type) {
        case 'joined':
          return go('live');
        case 'joinFailed':
          return { next: { state: 'error', errorCode: event.code, errorDetail: event.detail }, effects: [] };
        case 'endRequested':
          return go('leaving', { type: 'leave' });
        case 'classReleasedShort':
          return stay(current, { type: 'showHint', hint: 'busy' });
        default:
          return stay(current);
      }
    case 'live':
      switch (event.type) {
        case 'classEndHoldReached':
        case 'endRequested':
          return go('leaving', { type: 'leave' });
        case 'classReleasedShort':
          return stay(current, { type: 'showHint', hint: 'holdToEnd' });
        case 'connectionLost':
          return {
            next: { state: 'reconnecting', errorCode: event.code, errorDetail: event.detail },
            effects: [{ type: 'rejoin' }],
          };
        default:
          return stay(current);
      }
    case 'reconnecting':
      switch (event.type) {
        case 'rejoined':
          return go('live');
        case 'classEndHoldReached':
        case 'endRequested':
          return go('leaving', { type: 'leave' });
        case 'classReleasedShort':
          return stay(current, { type: 'showHint', hint: 'holdToEnd' });
        case 'connectionLost':
          // A further loss while reconnecting keeps the newest reason on screen.
          return {
            next: { state: 'reconnecting', errorCode: event.code, errorDetail: event.detail },
            effects: [],
          };
        default:
          return stay(current);
      }
    case 'leaving':
      switch (event.type) {
        case 'left':
          return go('idle');
        default:
          return stay(current);
      }
    case 'error':
      switch (event.type) {
        // The error screen says "press the green button to try again".
        case 'classPressed':
          return go('joining', { type: 'join' });
        case 'selfTestHoldReached':
          return stay(current, { type: 'startSelfTest' });
        case 'endRequested':
          return go('idle');
        default:
          return stay(current);
      }
  }
}
