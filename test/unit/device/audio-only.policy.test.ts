import { describe, expect, it } from 'vitest';
import { AudioOnlyPolicy, linkLimitsVideo } from '../../../device/domain/audio-only.policy.js';

const options = { minVideoKbps: 120, samples: 3, firstProbeMs: 10_000, maxProbeMs: 40_000, graceMs: 500 };
const bad = (at: number) => ({ at, videoKbps: 60, bandwidthLimited: true });
const good = (at: number) => ({ at, videoKbps: 400, bandwidthLimited: false });

function started(): AudioOnlyPolicy {
  const p = new AudioOnlyPolicy(options);
  p.reset(0);
  return p;
}

describe('the audio-only fallback', () => {
  it('ignores samples while the encoder ramps up', () => {
    const p = new AudioOnlyPolicy(options);
    p.reset(0);
    [100, 200, 300, 400].forEach((at) => p.sample(bad(at)));
    expect(p.mode).toBe('video');
  });

  it('keeps video through one or two bad samples', () => {
    const p = started();
    expect(p.sample(bad(1000))).toBe(false);
    expect(p.sample(bad(2000))).toBe(false);
    expect(p.sample(good(3000))).toBe(false);
    expect(p.sample(bad(4000))).toBe(false);
    expect(p.videoWanted).toBe(true);
  });

  it('falls back to sound only after three bad samples in a row', () => {
    const p = started();
    p.sample(bad(1000));
    p.sample(bad(2000));
    expect(p.sample(bad(3000))).toBe(true);
    expect(p.mode).toBe('audioOnly');
    expect(p.videoWanted).toBe(false);
  });

  it('does not call a low bitrate bad when the encoder is not bandwidth-limited (a still picture)', () => {
    const p = started();
    for (let i = 1; i <= 5; i++) p.sample({ at: i * 1000, videoKbps: 30, bandwidthLimited: false });
    expect(p.mode).toBe('video');
  });

  it('tries video again after the probe time, and keeps it when the link is good', () => {
    const p = started();
    [1, 2, 3].forEach((s) => p.sample(bad(s * 1000)));
    expect(p.tick(12_000)).toBe(false);
    expect(p.tick(13_000)).toBe(true);
    expect(p.mode).toBe('probing');
    expect(p.videoWanted).toBe(true);
    p.sample(bad(13_200)); // ramp-up, ignored
    [15, 16, 17].forEach((s) => p.sample(good(s * 1000)));
    expect(p.mode).toBe('video');
  });

  it('waits twice as long before the next try when the link is still bad, up to the cap', () => {
    const p = started();
    [1, 2, 3].forEach((s) => p.sample(bad(s * 1000)));
    let at = 3000;
    const waits: number[] = [];
    for (let round = 0; round < 4; round++) {
      const wentAudioOnlyAt = at;
      while (!p.tick(at)) at += 1000;
      waits.push(at - wentAudioOnlyAt);
      p.sample(bad(at + 100)); // ramp-up, ignored
      [1, 2, 3].forEach(() => p.sample(bad((at += 1000))));
      expect(p.mode).toBe('audioOnly');
    }
    expect(waits).toEqual([10_000, 20_000, 40_000, 40_000]);
  });

  it('counts Janus slow-link reports as bad samples', () => {
    const p = started();
    p.slowLink(1000);
    p.slowLink(1500);
    expect(p.slowLink(2000)).toBe(true);
    expect(p.mode).toBe('audioOnly');
  });
});

describe('what says the link limits the video', () => {
  /** The encoder's reason and the uplink estimate, with 32 kbit/s of sound and a 120 kbit/s smallest picture. */
  const limits = (qualityLimitation?: string, availableOutgoingKbps?: number) =>
    linkLimitsVideo(
      {
        audioKbps: 32,
        ...(qualityLimitation === undefined ? {} : { qualityLimitation }),
        ...(availableOutgoingKbps === undefined ? {} : { availableOutgoingKbps }),
      },
      120,
    );

  it("is the encoder's own 'bandwidth'", () => {
    expect(limits('bandwidth')).toBe(true);
    expect(limits('cpu')).toBe(false);
    expect(limits()).toBe(false);
  });

  it('or an uplink estimate that leaves less than the smallest picture beside the sound', () => {
    // A CPU-starved encoder names the CPU: a 150 kbit/s uplink shows only in the congestion controller's estimate.
    expect(limits('cpu', 140)).toBe(true);
    expect(limits('none', 151)).toBe(true);
    // A CPU-starved encoder on a good link.
    expect(limits('cpu', 1500)).toBe(false);
  });

  it('takes a still picture on a good link for a good link, though the estimate sits under the cap', () => {
    // A still picture sends little; the estimate stays where the start-up probes left it.
    expect(limits('none', 600)).toBe(false);
    expect(limits('none', 152)).toBe(false);
  });
});
