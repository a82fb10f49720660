import { describe, expect, it } from 'vitest';
import {
  INITIAL_SESSION,
  transition,
  type SessionEvent,
  type SessionSnapshot,
} from '../../../device/domain/class-session.machine.js';

function run(events: SessionEvent[], from: SessionSnapshot = INITIAL_SESSION) {
  let state = from;
  const effects: string[] = [];
  for (const event of events) {
    const t = transition(state, event);
    state = t.next;
    effects.push(...t.effects.map((e) => (e.type === 'showHint' ? `hint:${e.hint}` : e.type)));
  }
  return { state, effects };
}

describe('the class session machine', () => {
  it('starts a class as the button goes down and is live once joined', () => {
    const { state, effects } = run([{ type: 'classPressed' }, { type: 'joined' }]);
    expect(state.state).toBe('live');
    expect(effects).toEqual(['join']);
  });

  it('never ends a live class on a short press (a bump), but tells the tutor to hold', () => {
    const { state, effects } = run([
      { type: 'classPressed' },
      { type: 'classReleasedShort' },
      { type: 'joined' },
      { type: 'classPressed' },
      { type: 'classReleasedShort' },
    ]);
    expect(state.state).toBe('live');
    expect(effects).toEqual(['join', 'hint:busy', 'hint:holdToEnd']);
  });

  it('ends a live class when the hold is reached, and is idle once left', () => {
    const { state, effects } = run([
      { type: 'classPressed' },
      { type: 'joined' },
      { type: 'classEndHoldReached' },
      { type: 'left' },
    ]);
    expect(state.state).toBe('idle');
    expect(effects).toEqual(['join', 'leave']);
  });

  it('ignores an end hold and a release while idle; the mute button hold starts the self-test', () => {
    expect(run([{ type: 'classEndHoldReached' }]).state.state).toBe('idle');
    expect(run([{ type: 'classReleasedShort' }])).toEqual({ state: INITIAL_SESSION, effects: [] });
    expect(run([{ type: 'selfTestHoldReached' }]).effects).toEqual(['startSelfTest']);
    expect(run([{ type: 'selfTestHoldReached' }], { state: 'live' }).effects).toEqual([]);
  });

  it('shows an error with its code when joining fails, and retries on the next press', () => {
    const failed = run([
      { type: 'classPressed' },
      { type: 'joinFailed', code: 'E-JANUS-UNREACHABLE', detail: 'refused' },
    ]);
    expect(failed.state).toEqual({
      state: 'error',
      errorCode: 'E-JANUS-UNREACHABLE',
      errorDetail: 'refused',
    });
    const retried = run([{ type: 'classPressed' }], failed.state);
    expect(retried.state.state).toBe('joining');
    expect(retried.effects).toEqual(['join']);
  });

  it('reconnects by itself when the connection is lost in class, then is live again', () => {
    const lost = run([
      { type: 'classPressed' },
      { type: 'joined' },
      { type: 'connectionLost', code: 'E-CONNECTION-LOST' },
    ]);
    expect(lost.state.state).toBe('reconnecting');
    expect(lost.effects).toEqual(['join', 'rejoin']);
    const back = run([{ type: 'rejoined' }], lost.state);
    expect(back.state).toEqual({ state: 'live' });
  });

  it('lets the tutor end a class that is reconnecting', () => {
    const { state, effects } = run([{ type: 'classEndHoldReached' }], {
      state: 'reconnecting',
      errorCode: 'E-CONNECTION-LOST',
    });
    expect(state.state).toBe('leaving');
    expect(effects).toEqual(['leave']);
  });

  it('does nothing on presses while joining or leaving, except say it is busy', () => {
    expect(run([{ type: 'classPressed' }], { state: 'joining' }).effects).toEqual([]);
    expect(run([{ type: 'classReleasedShort' }], { state: 'joining' }).effects).toEqual(['hint:busy']);
    expect(
      run([{ type: 'classPressed' }, { type: 'classEndHoldReached' }], { state: 'leaving' }).state.state,
    ).toBe('leaving');
  });

  it('leaves when the daemon stops mid-class or mid-join', () => {
    expect(run([{ type: 'endRequested' }], { state: 'live' }).effects).toEqual(['leave']);
    expect(run([{ type: 'endRequested' }], { state: 'joining' }).effects).toEqual(['leave']);
  });

  it('keeps the same snapshot object when nothing changes', () => {
    const s: SessionSnapshot = { state: 'idle' };
    expect(transition(s, { type: 'joined' }).next).toBe(s);
  });
});
