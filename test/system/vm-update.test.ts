import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../common/version.js';
import { capLink, setLinkRate } from '../helpers/bad-link.js';
import { waitFor } from '../helpers/browser.js';
import { BoxReleases, releasesWork, type BuiltRelease, type ReleaseVariant } from './vm-releases.js';
import { ADMIN, ARTIFACTS, DEVICE_ID, VmSystem } from './vm-harness.js';

/** Outer bounds under TCG on two shared cores (see vm-box.test.ts); the figures go to test-artifacts/vm. */
const BOOT_MS = 15 * 60_000;
const UPDATE_MS = 15 * 60_000;
/** The box's trial allowance (update.healthTimeoutSec, the default 300 s) and the time to notice it. */
const TRIAL_MS = 300_000;

/** Power cuts to make (issue 15 asks for at least 30); CI may ask for fewer to fit its time. */
const CUTS = Number(process.env.CLASSBOX_POWER_CUTS ?? 30);
/** The cuts' random choices, printed, so a failed run can be replayed with CLASSBOX_POWER_CUT_SEED. */
const SEED = Number(process.env.CLASSBOX_POWER_CUT_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** The uplink during updates: a rural line, so the download takes long enough to be cut into. */
const LINK_KBIT = 12_000;
/**
 * The line until the guest's watcher for a cut in the verify step is armed (see guestCutAtVerify), and
 * while the box comes back from a cut in its download (the unpack cut follows).
 */
const SLOW_KBIT = 256;
/** What the guest's watcher writes to its console as it cuts its own power. */
const GUEST_CUT_MARK = 'classbox-cut: guest power cut';

/** mulberry32: a small seeded generator, so a run's cut points can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Where an update stands, read from the guest's own files and systemd, as one shell round trip. */
interface GuestUpdate {
  step: string;
  trial: string;
  outcome: string;
  current: string;
  unpacking: boolean;
  leftovers: string;
  downloaded: number;
  active: string;
  pid: string;
}

/**
 * Bash builtins wherever they do (a TCG guest pays dearly for each process: a poll of ten processes a
 * second took most of a vCPU from the box and slowed its download to a crawl): two processes a poll.
 */
const GUEST_UPDATE = [
  'S=/var/lib/classbox/update R=/opt/classbox/releases',
  'field() { local l; [ -e "$1" ] || return 0; while IFS= read -r l; do case $l in "  \\"$2\\": \\""*) l=${l#*: \\"}; echo "$3=${l%%\\"*}"; return;; esac; done < "$1"; }',
  'field $S/update.json step step',
  'field $S/trial.json version trial',
  'field $S/outcome.json result outcome',
  'echo "current=$(cd -P $R/current 2>/dev/null && echo ${PWD##*/})"',
  'l=""; for f in $R/.unpack-* $R/.current.tmp; do [ -e "$f" ] && l="$l ${f##*/}"; done; echo "leftovers=$l"',
  'for f in /opt/classbox/downloads/*.tar.gz; do [ -e "$f" ] && stat -c "downloaded=%s" "$f"; done',
  'systemctl show -p ActiveState -p MainPID classbox',
].join('; ');

let lastSeen = '';

async function guestUpdate(sys: VmSystem): Promise<GuestUpdate> {
  const out = await sys.vm.sh(GUEST_UPDATE, 20_000);
  // Every change of what the guest shows goes to the log: CI's only view of a run that fails.
  const seen = out.trim().replace(/\n/g, ' ');
  if (seen !== lastSeen) console.log(`guest: ${seen}`);
  lastSeen = seen;
  const v = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
  ) as Record<string, string>;
  return {
    step: v.step ?? '',
    trial: v.trial ?? '',
    outcome: v.outcome ?? '',
    current: v.current ?? '',
    unpacking: (v.leftovers ?? '').includes('.unpack-'),
    leftovers: v.leftovers ?? '',
    downloaded: Number(v.downloaded || 0),
    active: v.ActiveState ?? '',
    pid: v.MainPID ?? '',
  };
}

type Phase = 'download' | 'verify' | 'unpack' | 'switch' | 'restart' | 'trial' | 'steady';
/** QMP system_reset, QMP quit + a fresh QEMU, or the guest's own sysrq reset (a cut inside the verify step). */
type CutKind = 'reset' | 'quit' | 'guest';
const PHASES: readonly Phase[] = ['download', 'verify', 'unpack', 'switch', 'restart', 'trial'];
/**
 * The order of the cuts: one update is cut in its download, unpack, switch, restart and trial, the next in
 * its verify. After a cut the checks take the test longer than the box takes to verify and unpack, so a cut
 * aimed at the unpack right after one in the verify found the update past it every time.
 */
const AIMS: readonly Phase[] = ['download', 'unpack', 'switch', 'restart', 'trial', 'verify'];

/** The phase of the update to `target`, from what the guest shows; `oldPid` is the daemon before the switch. */
function phaseOf(g: GuestUpdate, target: BuiltRelease, oldPid: string): Phase {
  if (g.step === 'downloading') return g.downloaded >= target.payloadBytes ? 'verify' : 'download';
  if (g.step === 'verified') return 'unpack';
  if (g.step === 'unpacked') return 'switch';
  if (g.step === 'switched') {
    if (g.current !== target.version) return 'switch';
    return g.active === 'active' && g.pid !== oldPid && g.trial === target.version ? 'trial' : 'restart';
  }
  return 'steady';
}

/** What must survive every cut: the box's identity, its last good config, its update history. */
const KEEP = [
  '/var/lib/classbox/fleet/device-key.pem',
  '/var/lib/classbox/fleet/enrolment.json',
  '/var/lib/classbox/fleet/desired-config.json',
];

async function fingerprints(sys: VmSystem): Promise<string> {
  return (await sys.vm.sh(`sha256sum ${KEEP.join(' ')}`, 20_000)).trim();
}

/** The box's update history (history.jsonl): appended, never rewritten below 100 entries. */
async function historyOf(sys: VmSystem): Promise<string> {
  return sys.vm.sh('cat /var/lib/classbox/update/history.jsonl 2>/dev/null || true', 20_000);
}

/** The guest's boot: a new one after every cut. */
async function bootIdOf(sys: VmSystem): Promise<string> {
  return (await sys.vm.sh('cat /proc/sys/kernel/random/boot_id', 20_000)).trim();
}

/** When each step of the update to a version began, from the daemon's own log lines of this boot. */
interface StepTimes {
  verifying?: number;
  unpacking?: number;
  switched?: number;
  trial?: number;
  confirmed?: number;
}

async function stepTimes(sys: VmSystem, version: string): Promise<StepTimes> {
  const out = await sys.vm.sh(
    `journalctl -b -u classbox -o cat --no-pager | grep -F 'version=${version}' || true`,
    60_000,
  );
  const v = version.replace(/\./g, '\\.');
  const marks: [keyof StepTimes, RegExp][] = [
    ['verifying', new RegExp(`^Verifying update version=${v}$`)],
    ['unpacking', new RegExp(`^Unpacking update version=${v}$`)],
    ['switched', new RegExp(`^Switched to version=${v} `)],
    ['trial', new RegExp(`^Started version on trial version=${v} `)],
    ['confirmed', new RegExp(`^Confirmed update version=${v} `)],
  ];
  const times: StepTimes = {};
  for (const line of out.split('\n')) {
    let entry: { msg?: string; time?: string };
    try {
      entry = JSON.parse(line.trim()) as { msg?: string; time?: string };
    } catch {
      continue;
    }
    for (const [name, re] of marks)
      if (times[name] === undefined && entry.msg && entry.time && re.test(entry.msg))
        times[name] = Date.parse(entry.time);
  }
  return times;
}

interface UpdateView {
  runningVersion: string | null;
  targetVersion: string | null;
  report: { state: string; version: string; code?: string; detail?: string } | null;
}

async function updateView(sys: VmSystem): Promise<UpdateView> {
  const r = await fetch(`${sys.fleet.url}/api/v1/admin/devices/${DEVICE_ID}/update`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  return (await r.json()) as UpdateView;
}

/**
 * Updates on the booted box (issue 15): a release made with the CLI reaches the VM's box over a capped link
 * and is installed between classes only; power is cut at random points of many updates (QMP system_reset
 * and quit + a fresh QEMU), and after every cut the box must come back to a working version with its
 * identity, config and update history; releases that never get healthy or can't start at all are rolled
 * back by the box itself; a card that fills up during a download drops the update and nothing else.
 */
describe('updates on the booted box, with power cuts', () => {
  let sys: VmSystem;
  let releases: BoxReleases;
  let versionSeq = 0;
  let uncap: (() => Promise<void>) | undefined;
  /** The history as of the last update that settled (reported to the fleet, so written and fsynced). */
  let settledHistory = '';
  const nextVersion = () => `${VERSION.split('.')[0]}.${Number(VERSION.split('.')[1]) + 1}.${versionSeq++}`;

  beforeAll(async () => {
    sys = await VmSystem.open();
    releases = await BoxReleases.open(await releasesWork(sys.work));
    // The fleet link capped as a rural line: htb on this host's end of the namespace's veth (what the
    // guest downloads leaves this host by it).
    uncap = await capLink(sys.classroom.janus.link!.hostIf, LINK_KBIT);
    await sys.powerOn();
  }, 300_000);

  afterAll(async () => {
    await uncap?.();
    await sys?.close();
  }, 120_000);

  // A failed step leaves what the guest said and showed, for the engineer reading CI's artifacts.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail' || !sys?.vm) return;
    const name = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
    const journal = await sys.vm
      .shell(
        'journalctl -b --no-pager -o short-monotonic -u classbox -u classbox-kiosk-session | tail -n 300',
        60_000,
      )
      .catch((error: unknown) => ({ output: String(error) }));
    await writeFile(join(ARTIFACTS, `failed-${name}.journal.txt`), journal.output);
    await sys.vm.screendump(join(ARTIFACTS, `failed-${name}.png`)).catch(() => undefined);
    const status = await sys.status().catch((error: unknown) => String(error));
    await writeFile(join(ARTIFACTS, `failed-${name}.status.json`), JSON.stringify(status, null, 2));
  }, 120_000);

  async function publish(variant: ReleaseVariant = 'good'): Promise<BuiltRelease> {
    const release = await releases.build(nextVersion(), variant);
    await releases.publish(sys.fleet.url, release);
    console.log(`published ${release.version} (${variant}, ${release.payloadBytes} bytes)`);
    return release;
  }

  /** The box on `version`, idle on its screen, the update closed on disk and reported to the fleet. */
  async function settledOn(
    version: string,
    state: 'installed' | 'rolled-back',
    reported: string,
  ): Promise<GuestUpdate> {
    const view = await waitFor(
      async () => {
        const v = await updateView(sys);
        await guestUpdate(sys);
        return v.runningVersion === version && v.report?.state === state && v.report.version === reported
          ? v
          : undefined;
      },
      UPDATE_MS,
      `the fleet to see ${version} running (${state} ${reported})`,
      2000,
    );
    await sys.waitForIdleScreen(BOOT_MS);
    const g = await guestUpdate(sys);
    expect(g.current).toBe(version);
    expect(g.step).toBe('');
    expect(g.trial).toBe('');
    expect(g.leftovers).toBe('');
    expect(g.downloaded).toBe(0);
    const history = await historyOf(sys);
    expect(history.startsWith(settledHistory)).toBe(true);
    expect(history.trim().split('\n').at(-1)).toContain(`"version":"${reported}"`);
    settledHistory = history;
    return { ...g, outcome: view.report!.state };
  }

  it(
    'boots, enrols and is idle on the packaged version',
    async () => {
      await sys.readyAt;
      await sys.enrolledAt;
      const status = await sys.waitForIdleScreen(BOOT_MS);
      expect(status.version).toBe(VERSION);
      // Ready for a class as a tutor sees it: the camera's picture in the self-view (vm-box.test.ts).
      await waitFor(() => sys.vm.showsTestPattern(), 300_000, "the camera's picture in the self-view", 3000);
      console.log('the box is idle on the packaged version');
    },
    BOOT_MS,
  );

  it(
    'holds a rollout that arrives during a class until the class ends, then installs it and reports it',
    async () => {
      // Half a second, as a tutor presses: the class starts on the press itself. (A 150 ms press sent
      // while the emulated box is at its busiest can reach it as one bunched down-and-up.)
      await sys.vm.press('ret', 500);
      await sys.waitForState('live', 300_000);
      const release = await publish();
      const waiting = await waitFor(
        async () => {
          const v = await updateView(sys);
          return v.report?.state === 'waiting' && v.report.version === release.version ? v : undefined;
        },
        180_000,
        'the box to report the update as waiting for the class',
        2000,
      );
      expect(waiting.report!.detail).toMatch(/class/);
      // A minute of class with the release offered: nothing downloaded, the class goes on.
      await new Promise((r) => setTimeout(r, 60_000));
      expect((await sys.status()).state).toBe('live');
      const during = await guestUpdate(sys);
      expect(during).toMatchObject({ step: '', downloaded: 0, current: VERSION });
      // The tutor holds the button: the class ends, then the update runs.
      await sys.vm.press('ret', 3500);
      await sys.waitForState('idle', 120_000);
      await waitFor(
        async () => {
          const g = await guestUpdate(sys);
          if (g.step === 'verified' || g.step === 'unpacked' || g.step === 'switched') return true;
          return undefined;
        },
        UPDATE_MS,
        'the download to be verified',
        1000,
      );
      await settledOn(release.version, 'installed', release.version);
      // The issue's figure, update (download excluded) → healthy on the new version, from the guest's own
      // clock: the daemon logs each step as it begins (a poll through the serial shell takes seconds).
      const t = await stepTimes(sys, release.version);
      expect(t).toEqual({
        verifying: expect.any(Number),
        unpacking: expect.any(Number),
        switched: expect.any(Number),
        trial: expect.any(Number),
        confirmed: expect.any(Number),
      });
      const figure = {
        version: release.version,
        payloadBytes: release.payloadBytes,
        downloadedToHealthyMs: t.confirmed! - t.verifying!,
        verifyMs: t.unpacking! - t.verifying!,
        unpackAndSwitchMs: t.switched! - t.unpacking!,
        restartMs: t.trial! - t.switched!,
        trialToHealthyMs: t.confirmed! - t.trial!,
      };
      const sec = (ms: number) => (ms / 1000).toFixed(1);
      console.log(
        `update to ${release.version} in the VM, download excluded → healthy: ${sec(figure.downloadedToHealthyMs)} s ` +
          `(verify ${sec(figure.verifyMs)} s, unpack and switch ${sec(figure.unpackAndSwitchMs)} s, ` +
          `restart to the new daemon ${sec(figure.restartMs)} s, its trial until healthy ${sec(figure.trialToHealthyMs)} s)`,
      );
      expect(figure.downloadedToHealthyMs).toBeGreaterThan(0);
      await writeFile(join(ARTIFACTS, 'update.json'), JSON.stringify(figure, null, 2));
      // The dashboard's view of the rollout: one box offered, installed and running it. (The release's
      // own view lists its rollouts; their counts are the rollout's progress.)
      const auth = { headers: { authorization: `Bearer ${ADMIN}` } };
      const view = (await (
        await fetch(`${sys.fleet.url}/api/v1/admin/releases/${release.version}`, auth)
      ).json()) as { rollouts: { id: string }[] };
      expect(view.rollouts).toHaveLength(1);
      const progress = (await (
        await fetch(`${sys.fleet.url}/api/v1/admin/rollouts/${view.rollouts[0]!.id}/progress`, auth)
      ).json()) as Record<string, unknown>;
      expect(progress).toMatchObject({ boxes: 1, offered: 1, installed: 1, healthy: 1, rolledBack: 0 });
      const device = await sys.device();
      expect(device?.version).toBe(release.version);
    },
    2 * UPDATE_MS,
  );

  it(
    'drops an update whose download fills the card, says so, and keeps running what it ran',
    async () => {
      await sys.waitForIdleScreen(BOOT_MS);
      const running = (await guestUpdate(sys)).current;
      const release = await publish();
      // Something else fills the card once the download has begun (after the box's own free-space check).
      await waitFor(
        async () => ((await guestUpdate(sys)).downloaded > 0 ? true : undefined),
        UPDATE_MS,
        'the download to begin',
        200,
      );
      await sys.vm.sh(
        'fallocate -l $(( $(df --output=avail -B1 / | tail -n1) - 4194304 )) /var/tmp/filler',
        60_000,
      );
      try {
        const view = await waitFor(
          async () => {
            const v = await updateView(sys);
            return v.report?.version === release.version && v.report.state === 'failed' ? v : undefined;
          },
          UPDATE_MS,
          'the box to report the failed update',
          2000,
        );
        expect(view.report).toMatchObject({ code: 'E-UPDATE-SPACE' });
        expect(view.report!.detail).toMatch(/disk filled up during the download/);
        const g = await guestUpdate(sys);
        expect(g).toMatchObject({ current: running, step: '', downloaded: 0, leftovers: '' });
        const status = await sys.status();
        expect(status.version).toBe(running);
        expect(status.state).toBe('idle');
      } finally {
        await sys.vm.sh('rm -f /var/tmp/filler', 60_000);
      }
      // Not tried again: the fleet still offers it, the box keeps what it runs.
      await new Promise((r) => setTimeout(r, 30_000));
      expect((await guestUpdate(sys)).downloaded).toBe(0);
    },
    2 * UPDATE_MS,
  );

  for (const variant of ['unhealthy', 'no-start'] as const) {
    it(
      `rolls back by itself a release that ${variant === 'unhealthy' ? 'starts but never gets healthy' : 'cannot start at all'}, and does not retry it`,
      async () => {
        await sys.waitForIdleScreen(BOOT_MS);
        const running = (await guestUpdate(sys)).current;
        const release = await publish(variant);
        await waitFor(
          async () => ((await guestUpdate(sys)).current === release.version ? true : undefined),
          UPDATE_MS,
          `the switch to ${release.version}`,
          1000,
        );
        const code =
          variant === 'unhealthy'
            ? 'E-UPDATE-UNHEALTHY'
            : 'E-UPDATE-UNHEALTHY|E-UPDATE-CRASH-LOOP|E-UPDATE-START';
        await settledOn(running, 'rolled-back', release.version);
        const view = await updateView(sys);
        expect(view.report!.code).toMatch(new RegExp(code));
        // Not retried while the fleet still offers it.
        await new Promise((r) => setTimeout(r, 30_000));
        const g = await guestUpdate(sys);
        expect(g).toMatchObject({ current: running, step: '', downloaded: 0 });
      },
      UPDATE_MS + TRIAL_MS + BOOT_MS,
    );
  }
  /**
   * A cut inside the verify step, made by the guest itself. Verifying (SHA-256 and Ed25519 of ~25 MB) takes
   * about a second in the guest, less than one poll of its state through the serial shell, so the host
   * cannot time it: a watcher in the guest follows the daemon's log and, `delayS` after "Verifying update",
   * writes `b` to /proc/sysrq-trigger — an immediate reset without a sync, what QMP's system_reset does.
   * Armed once the download has begun, on a line slowed until then; undefined when the update was past
   * its download by then, so the caller aims at the host's way instead.
   */
  async function guestCutAtVerify(
    target: BuiltRelease,
    delayS: number,
    linkDev: string,
  ): Promise<{ before: GuestUpdate; phase: Phase } | undefined> {
    const before = await waitFor(
      async () => {
        const g = await guestUpdate(sys);
        return g.step === '' && g.current !== target.version ? undefined : g;
      },
      UPDATE_MS,
      `the update to ${target.version} to begin`,
      1000,
    );
    if (before.step !== 'downloading' || before.downloaded >= target.payloadBytes) return undefined;
    const bootId = await bootIdOf(sys);
    const marks = (log: string) => log.split('\n').filter((l) => l.includes(GUEST_CUT_MARK));
    const seenBefore = marks(await sys.vm.serialLog()).length;
    const watcher = [
      'V="$1"; D="$2"',
      'journalctl -f -n 0 -u classbox -o cat | {',
      `  grep -m1 -qF "\\"msg\\":\\"Verifying update version=$V\\"" || exit 0`,
      '  sleep "$D"',
      `  step=$(grep -o '"step": *"[a-z]*"' /var/lib/classbox/update/update.json 2>/dev/null)`,
      `  echo "${GUEST_CUT_MARK} $D s into verifying $V ($step)" > /dev/ttyS0`,
      '  echo b > /proc/sysrq-trigger',
      '}',
    ].join('\n');
    await sys.vm.sh(
      `echo ${Buffer.from(watcher).toString('base64')} | base64 -d > /run/classbox-cut.sh && ` +
        `setsid -f sh /run/classbox-cut.sh ${target.version} ${delayS.toFixed(2)} </dev/null >/dev/null 2>&1`,
      20_000,
    );
    await setLinkRate(linkDev, LINK_KBIT);
    const line = await waitFor(
      async () =>
        marks(await sys.vm.serialLog())
          .slice(seenBefore)
          .at(-1),
      UPDATE_MS,
      `the guest to cut its power in the verify step of ${target.version}`,
      500,
    );
    sys.vm.poweredOnAt = Date.now();
    console.log(`guest: ${line.trim()}`);
    await waitFor(
      async () => {
        const id = await bootIdOf(sys).catch(() => undefined);
        return id !== undefined && id !== bootId ? id : undefined;
      },
      BOOT_MS,
      'the guest to boot again after its own power cut',
      3000,
    );
    // The step still `downloading`: the verify had not ended (its end is the step `verified`, written
    // before the unpack begins). `verified` means the cut came after it: the unpack.
    return { before, phase: /"step": *"downloading"/.test(line) ? 'verify' : 'unpack' };
  }

  it(
    `survives ${CUTS} power cuts spread over download, verify, unpack, switch, restart and trial`,
    async () => {
      const random = seeded(SEED);
      console.log(`power cuts: seed ${SEED} (replay with CLASSBOX_POWER_CUT_SEED=${SEED}), ${CUTS} cuts`);
      // Run alone (`-t 'power cuts'`), the box may still be on its first boot: its identity is taken once
      // it has enrolled and is idle.
      await sys.readyAt;
      await sys.enrolledAt;
      await sys.waitForIdleScreen(BOOT_MS);
      const before = await fingerprints(sys);
      const enrolledAt = (await sys.device())?.['enrolledAt' as keyof object];
      const linkDev = sys.classroom.janus.link!.hostIf;
      const rows: {
        n: number;
        kind: CutKind;
        aimed: Phase;
        phase: Phase;
        from: string;
        target: string;
        after: string;
        intact: boolean;
        why: string;
      }[] = [];
      let target: BuiltRelease | undefined;
      let from = (await guestUpdate(sys)).current;
      let oldPid = '';
      for (let n = 1; n <= CUTS; n++) {
        const aimed = AIMS[(n - 1) % AIMS.length]!;
        if (aimed === 'download' || aimed === 'verify' || !target) {
          // The cuts in the download and in the verify each start a new update: the one before has ended,
          // installed and clean. The line is slowed before the release is offered, for the verify's watcher.
          if (aimed === 'verify') await setLinkRate(linkDev, SLOW_KBIT);
          if (target) await settledOn(target.version, 'installed', target.version);
          from = (await guestUpdate(sys)).current;
          oldPid = (await guestUpdate(sys)).pid;
          target = await publish();
        }
        const r = random();
        const hostKind: 'reset' | 'quit' = random() < 0.5 ? 'reset' : 'quit';
        let kind: CutKind = hostKind;
        let g: GuestUpdate | undefined;
        let phase: Phase | undefined;
        if (aimed === 'verify') {
          const cut = await guestCutAtVerify(target, r * 0.8, linkDev);
          if (cut) {
            ({ before: g, phase } = cut);
            kind = 'guest';
          }
        }
        // Back to the rural line whatever happened above.
        await setLinkRate(linkDev, LINK_KBIT);
        if (!g || !phase) {
          // Wait for the aimed phase (or a later one, if it was too short to see), then a random moment in
          // it. An update that ends before the aimed phase comes (the box back from a cut in its restart is
          // healthy at once) must have ended cleanly; the next update brings the phase.
          for (;;) {
            const seen = await waitFor(
              async () => {
                const now = await guestUpdate(sys);
                // The daemon before the switch: a trial is only the new version's daemon up.
                if (now.step !== 'switched') oldPid = now.pid;
                const p = phaseOf(now, target!, oldPid);
                if (p === 'steady')
                  return now.current === target!.version && now.outcome === 'installed'
                    ? { at: undefined }
                    : undefined;
                if (PHASES.indexOf(p) < PHASES.indexOf(aimed)) return undefined;
                // A share of the bytes that leaves room for the poll (a few seconds under TCG) before the
                // download ends: a cut aimed at 95 % would land in the verify.
                if (p === 'download' && now.downloaded < (0.05 + 0.6 * r) * target!.payloadBytes)
                  return undefined;
                return { at: now as GuestUpdate | undefined };
              },
              UPDATE_MS,
              `the update to ${target.version} to reach ${aimed}`,
              1000,
            );
            if (seen.at) {
              g = seen.at;
              break;
            }
            await settledOn(target.version, 'installed', target.version);
            from = target.version;
            target = await publish();
          }
          const holdMs =
            aimed === 'unpack'
              ? r * 8000
              : aimed === 'restart'
                ? r * 10_000
                : aimed === 'trial'
                  ? r * 5000
                  : 0;
          if (holdMs > 0) {
            await new Promise((res) => setTimeout(res, holdMs));
            g = await guestUpdate(sys);
          }
          phase = phaseOf(g, target, oldPid);
          // The cut in the unpack comes next. The line is slowed so that the download still runs while the
          // test checks the box after this cut, and set back before the unpack is waited for: else the box
          // verifies and unpacks during those checks, and the unpack cut finds it past.
          if (aimed === 'download' && n < CUTS) await setLinkRate(linkDev, SLOW_KBIT);
          await sys.powerCut(hostKind);
        }
        // Back from the cut: a working version, the same identity, config and history.
        const problems: string[] = [];
        let after = '';
        try {
          await sys.readyThisBoot(BOOT_MS);
          const status = await sys.waitForIdleScreen(BOOT_MS);
          after = status.version;
          const back = await guestUpdate(sys);
          if (after !== from && after !== target.version) problems.push(`runs ${after}`);
          // `current` names what runs, or the update has gone on since the box came back and already
          // switched to the new version (its restart is due).
          const switchedSince = back.current === target.version && back.step === 'switched';
          if (back.current !== after && !switchedSince)
            problems.push(`current is ${back.current}, runs ${after}`);
          if ((await fingerprints(sys)) !== before) problems.push('key, enrolment or config changed');
          const enrolled = await sys.vm.shell(
            "journalctl -b -u classbox -o cat --no-pager | grep -c 'Enrolled device='",
          );
          if (enrolled.output.trim() !== '0') problems.push('enrolled again');
          if ((await sys.device())?.['enrolledAt' as keyof object] !== enrolledAt)
            problems.push('fleet enrolment changed');
          // Half-made folders are cleared at start, but the resumed update may be unpacking anew by
          // now: cleanliness is judged when each update has settled (settledOn), not here.
          if (g.outcome !== '' && back.outcome === '') problems.push('last update outcome lost');
          if (!(await historyOf(sys)).startsWith(settledHistory)) problems.push('update history lost');
        } catch (error) {
          problems.push(String(error));
          // What the guest's console said, for the engineer reading CI's artifacts; and a box that did not
          // come back is reset once more so the remaining cuts still run (this row stays "no").
          const serial = (await sys.vm.serialLog()).split('\n').slice(-400).join('\n');
          await writeFile(join(ARTIFACTS, `failed-cut-${n}.serial.txt`), serial);
          if (!after) {
            await sys.powerCut('reset');
            await sys.readyThisBoot(BOOT_MS);
            await sys.waitForIdleScreen(BOOT_MS);
          }
        }
        rows.push({
          n,
          kind,
          aimed,
          phase,
          from,
          target: target.version,
          after,
          intact: problems.length === 0,
          why: problems.join('; '),
        });
        console.log(
          `[${new Date().toISOString().slice(11, 19)}] cut ${n}: ${kind} at ${phase} (aimed ${aimed}) ${from} → ${target.version}: runs ${after || '?'}; ${problems.length === 0 ? 'intact' : problems.join('; ')}`,
        );
        if (aimed === 'trial') {
          // The update must end: installed, the trial closed, nothing left behind.
          try {
            await settledOn(target.version, 'installed', target.version);
          } catch (error) {
            rows[rows.length - 1]!.intact = false;
            rows[rows.length - 1]!.why += ` update did not finish: ${String(error)}`;
          }
        }
      }
      const table = [
        '| cut | how | at | update | version after boot | state intact |',
        '| --- | --- | --- | --- | --- | --- |',
        ...rows.map(
          (x) =>
            `| ${x.n} | ${x.kind} | ${x.phase} | ${x.from} → ${x.target} | ${x.after || '—'} | ${x.intact ? 'yes' : `no: ${x.why}`} |`,
        ),
      ].join('\n');
      console.log(table);
      await writeFile(join(ARTIFACTS, 'power-cuts.md'), `Seed ${SEED}\n\n${table}\n`);
      await writeFile(join(ARTIFACTS, 'power-cuts.json'), JSON.stringify({ seed: SEED, rows }, null, 2));
      expect(rows.filter((x) => !x.intact)).toEqual([]);
    },
    CUTS * 10 * 60_000,
  );
});
