import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JanusRecordingTools } from '../../../provisioning/adapters/recording-tools.janus.js';
import { FleetApiError } from '../../../provisioning/fleet-errors.js';
import { RecordingsRepository } from '../../../provisioning/repositories/recordings.repository.js';
import { CatchupCutsService } from '../../../provisioning/services/catchup-cuts.service.js';
import type { DesiredConfigService } from '../../../provisioning/services/desired-config.service.js';
import type { FleetClock } from '../../../provisioning/services/fleet-options.js';
import { writeMjr2 } from '../../helpers/mjr.js';
import { strictFake } from '../../helpers/strict-fake.js';

const ROOM = 2222;
const START = Date.parse('2026-11-30T08:00:00Z');

/** The real tools, counting the `.mjr` conversions they run. */
class CountingTools extends JanusRecordingTools {
  readonly converted: string[] = [];
  override async convert(mjr: string, out: string): Promise<void> {
    this.converted.push(mjr);
    await super.convert(mjr, out);
  }
}

/** The real tools on a server so busy that no cut finishes in the time it is given. */
class StarvedTools extends CountingTools {
  protected override cutTimeoutMs(): number {
    return 1;
  }
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A fleet whose room 2222 has one real 10 s teacher recording (Janus's own sample, MJR00002). */
function fleet(nodeFolder = '', tools = new CountingTools()) {
  dir = mkdtempSync(join(tmpdir(), 'classbox-cuts-'));
  const room = join(dir, nodeFolder, `room-${ROOM}`);
  mkdirSync(room, { recursive: true });
  for (const [kind, index] of [
    ['video', 1],
    ['audio', 0],
  ] as const) {
    const file = join(room, `teacher-${ROOM}-${START}-${kind}-${index}.mjr`);
    writeMjr2(kind, file, START);
    // What the recording holds ends when Janus last wrote it.
    utimesSync(file, new Date(START + 10_000), new Date(START + 10_000));
  }
  const recordings = new RecordingsRepository({ dir, keepHours: 24 * 365 * 10 });
  const cuts = new CatchupCutsService(
    recordings,
    tools,
    strictFake<DesiredConfigService>('DesiredConfigService', {
      forDevice: async () =>
        ({ config: { janus: { room: ROOM } }, etag: 'e' }) as unknown as Awaited<
          ReturnType<DesiredConfigService['forDevice']>
        >,
    }),
    strictFake<FleetClock>('FleetClock', { now: () => new Date(START + 3600_000) }),
  );
  return { cuts, tools, cutsDir: join(dir, '.cuts') };
}

// ffmpeg re-encodes each cut: seconds on a quiet machine, far longer on a loaded one (no timing is judged).
describe('cuts of one recording (issue 21)', { timeout: 180_000 }, () => {
  it('says a cut stopped for taking too long is the server being slow (tried again), not a bad recording', async () => {
    const f = fleet('', new StarvedTools());
    const error = await f.cuts
      .cut('jx-ruijin-01', { room: ROOM, fromMs: START + 1000, toMs: START + 4000 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(FleetApiError);
    expect(error).toMatchObject({ status: 503, code: 'E-CATCHUP-CUT-SLOW' });
    // Nothing half-made is left to be served.
    expect(readdirSync(f.cutsDir).filter((n) => /^[a-f0-9]{32}\./.test(n) || n.includes('.work-'))).toEqual(
      [],
    );
  });

  it("finds a recording in a media node's own folder under --recordings-dir", async () => {
    const f = fleet('jx-1');
    const cut = await f.cuts.cut('jx-ruijin-01', { room: ROOM, fromMs: START + 2000, toMs: START + 4000 });
    expect(cut.size).toBeGreaterThan(1000);
  });

  it('converts the recording once for every cut of it, and makes a cut once per stretch', async () => {
    const f = fleet();
    const first = await f.cuts.cut('jx-ruijin-01', { room: ROOM, fromMs: START + 1000, toMs: START + 4000 });
    expect(f.tools.converted).toHaveLength(2);
    const second = await f.cuts.cut('jx-ruijin-02', { room: ROOM, fromMs: START + 5000, toMs: START + 8000 });
    // Another stretch of the same recording: cut from the files already converted.
    expect(f.tools.converted).toHaveLength(2);
    expect(second.cutId).not.toBe(first.cutId);
    expect(second.size).toBeGreaterThan(1000);
    // The same stretch again: the finished cut itself, same bytes.
    const again = await f.cuts.cut('jx-ruijin-01', { room: ROOM, fromMs: START + 1000, toMs: START + 4000 });
    expect(again).toMatchObject({ cutId: first.cutId, sha256: first.sha256, size: first.size });
    expect(f.tools.converted).toHaveLength(2);
    // Only whole files are left: no scratch folder, no half conversion.
    expect(
      readdirSync(f.cutsDir).filter(
        (n) => !/^(conv-[a-f0-9]+-\d+\.(webm|opus)|[a-f0-9]{32}\.(webm|json))$/.test(n),
      ),
    ).toEqual([]);
  });

  it('converts once when two cuts of one recording are asked for at the same time', async () => {
    const f = fleet();
    const [a, b] = await Promise.all([
      f.cuts.cut('jx-ruijin-01', { room: ROOM, fromMs: START + 1000, toMs: START + 3000 }),
      f.cuts.cut('jx-ruijin-02', { room: ROOM, fromMs: START + 6000, toMs: START + 9000 }),
    ]);
    expect(a.cutId).not.toBe(b.cutId);
    // Each of the recording's two files once.
    expect(f.tools.converted.map((m) => m.replace(/.*-(audio|video)-\d\.mjr$/, '$1')).toSorted()).toEqual([
      'audio',
      'video',
    ]);
    expect(f.tools.converted).toHaveLength(2);
  });
});
