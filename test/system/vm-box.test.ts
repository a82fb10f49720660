import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../common/version.js';
import { teacherSees, waitFor } from '../helpers/browser.js';
import { BOX_NAME, teacherDecodesBox, teacherHearsBox } from '../helpers/classroom.js';
import { bootfsHas } from '../helpers/vm.js';
import { ARTIFACTS, VmSystem } from './vm-harness.js';

/**
 * Outer bounds, not figures (the bench has those): under TCG on two cores shared with other work, a Node
 * start in the guest takes from 40 s to several minutes, and the first boot to READY=1 up to ~10 min.
 */
const BOOT_TO_READY_MS = 15 * 60_000;
const RESTART_MS = 10 * 60_000;

/**
 * The box as a whole system (issue 14): the image built by images/build-vm-image, flashed by
 * provisioning/flash with a seed from the fleet, booted in QEMU with real drivers in the guest (vivid,
 * snd-aloop, a USB keyboard), its systemd units, user, udev rules and first-boot import doing the work.
 */
describe('the box image booted in a VM', () => {
  let sys: VmSystem;
  let teacher: Page | undefined;

  beforeAll(async () => {
    sys = await VmSystem.open();
    await sys.powerOn();
  }, 300_000);

  afterAll(async () => {
    await sys?.close();
  }, 120_000);

  it(
    'imports the enrolment seed from bootfs at first boot and deletes it there',
    async () => {
      await waitFor(
        async () => (await sys.vm.shell('true', 5000)).code === 0,
        BOOT_TO_READY_MS / 2,
        'the guest debug shell',
        2000,
      );
      const imported = await waitFor(
        async () => {
          const { output } = await sys.vm.shell('journalctl -b -u classbox-seed-import --no-pager -o cat');
          return /Imported enrolment seed/.test(output) ? output : undefined;
        },
        BOOT_TO_READY_MS / 2,
        'the seed import',
        3000,
      );
      expect(imported).toContain('from=/boot/firmware/classbox-enrol.json');
      expect((await sys.vm.shell('test -e /boot/firmware/classbox-enrol.json')).code).toBe(1);
    },
    BOOT_TO_READY_MS,
  );

  it(
    'runs classbox.service as the classbox user, started with READY=1',
    async () => {
      const readyAt = await sys.readyAt!;
      await writeFile(
        join(ARTIFACTS, 'boot.json'),
        JSON.stringify({ powerOnToReadyMs: readyAt - sys.vm.poweredOnAt, flashMs: sys.flashMs }),
      );
      const unit = await sys.unit();
      expect(unit).toMatchObject({ ActiveState: 'active', SubState: 'running', User: 'classbox' });
      const user = await sys.vm.sh(`ps -o user= -p ${unit.MainPID}`);
      expect(user.trim()).toBe('classbox');
    },
    BOOT_TO_READY_MS,
  );

  it("feeds the hardware watchdog from systemd, so a hung box resets itself (the image's RuntimeWatchdogSec)", async () => {
    // systemd opened the emulated 6300ESB (the Pi's BCM watchdog's stand-in) and arms it with the timeout
    // the test's kernel command line gives the slow emulated box: without the image's system.conf.d
    // drop-in, PID 1 would never open it and a hung kernel would stay hung.
    const log = await sys.vm.sh(
      "journalctl -b -o cat --no-pager | grep -E 'Using hardware watchdog|Watchdog running with a hardware timeout'",
    );
    expect(log).toMatch(/Using hardware watchdog 'i6300ESB timer'/);
    expect(log).toMatch(/Watchdog running with a hardware timeout of 1min/);
  }, 60_000);

  it(
    'enrols and heartbeats: the fleet shows it online with its version and health',
    async () => {
      const enrolledAt = await sys.enrolledAt!;
      await writeFile(
        join(ARTIFACTS, 'enrolled.json'),
        JSON.stringify({ powerOnToEnrolledMs: enrolledAt - sys.vm.poweredOnAt }),
      );
      const device = await waitFor(
        async () => {
          const d = await sys.device();
          return d?.online && d.version && d.health.camera ? d : undefined;
        },
        120_000,
        'a heartbeat with health',
        1000,
      );
      expect(device.version).toBe(VERSION);
      expect(device.state).toBe('idle');
    },
    BOOT_TO_READY_MS,
  );

  it(
    'finds camera, microphone and speaker from the real drivers (vivid, snd-aloop)',
    async () => {
      const status = await waitFor(
        async () => {
          const s = await sys.status();
          return s.health.camera?.status === 'ok' && s.health.kiosk?.status === 'ok' ? s : undefined;
        },
        BOOT_TO_READY_MS,
        'camera and kiosk healthy',
        3000,
      );
      await writeFile(join(ARTIFACTS, 'status-idle.json'), JSON.stringify(status, null, 2));
      expect(status.health.camera).toMatchObject({ status: 'ok', detail: 'vivid-000-vid-cap' });
      expect(status.health.microphone).toMatchObject({ status: 'ok', detail: 'Loopback' });
      expect(status.health.speaker).toMatchObject({ status: 'ok', detail: 'Loopback' });
      expect(status.state).toBe('idle');
      await sys.screenshotWhenDrawn(join(ARTIFACTS, 'idle.png'));
    },
    BOOT_TO_READY_MS,
  );

  it(
    'goes live on a USB button press; the teacher decodes its video and hears it; a hold ends the class',
    async () => {
      // The room's sound: a tone played into snd-aloop's second device comes out of the first one's
      // capture side, the box's microphone.
      await sys.vm.sh(
        'setsid -f speaker-test -D plughw:CARD=Loopback,DEV=1 -c 2 -r 48000 -t sine -f 440 -l 0 >/dev/null 2>&1',
      );
      teacher = await sys.classroom.participant('老师');
      // Ready for a class as a tutor sees it: the self-view shows the camera (the page has opened it and
      // prepares its publisher from it). Under TCG that comes well after the page first connected.
      await waitFor(() => sys.vm.showsTestPattern(), 300_000, "the camera's picture in the self-view", 3000);
      const box = async () => (await teacherSees(teacher!)).find((r) => r.display === BOX_NAME);
      const pressedAt = Date.now();
      // Half a second, as a tutor presses: the class starts on the press itself (issue 17). A 150 ms press
      // was lost once in CI: under TCG the emulated USB keyboard's down and up reached the guest's kernel
      // in two reports a few ms apart (the guest's clock stamps them on arrival), which the daemon's
      // 30 ms debounce rightly took for a glitch. A real keyboard's reports carry their own spacing.
      await sys.vm.press('ret', 500);
      await sys.waitForState('live', 180_000);
      const liveMs = Date.now() - pressedAt;
      await waitFor(
        async () => (await box())?.framesDecoded,
        180_000,
        "the teacher's first frame of the box",
        100,
      );
      const firstFrameMs = Date.now() - pressedAt;
      // What the emulated box carries (issue 14, point 5): 30 s of what the teacher receives, recorded.
      // Under TCG the guest's Chromium encodes in software on an emulated CPU tens of times slower
      // than a Pi's, so the figures say what got through, and the assertions ask only that video and
      // sound both keep arriving — not a frame rate.
      const before = (await box())!;
      const windowMs = 30_000;
      await new Promise((r) => setTimeout(r, windowMs));
      const after = (await box())!;
      const received = {
        liveMs,
        firstFrameMs,
        fps: ((after.framesDecoded - before.framesDecoded) * 1000) / windowMs,
        audioKbps: ((after.audioBytes - before.audioBytes) * 8) / windowMs,
      };
      await writeFile(join(ARTIFACTS, 'press.json'), JSON.stringify(received, null, 2));
      await teacherDecodesBox(teacher, 120_000, 1);
      await teacherHearsBox(teacher, 120_000, 1000);
      // Chromium's audio threads run in real time under the unit's LimitRTPRIO (issue 16): the service's
      // cgroup holds threads on SCHED_RR (policy 2: field 41 of a thread's stat, 39th after the command's
      // closing parenthesis). One cat and one awk over all of them: a process per thread took longer than
      // 30 s under TCG.
      const realtime = await sys.vm.sh(
        `g=/sys/fs/cgroup$(cut -d: -f3 /proc/$(systemctl show -p MainPID --value classbox)/cgroup); ` +
          `cat $(sed 's|.*|/proc/&/stat|' "$g/cgroup.threads") 2>/dev/null | awk '{ n = $0; ` +
          `sub(/^[^(]*[(]/, "", n); sub(/[)] .*$/, "", n); s = $0; sub(/^.*[)] /, "", s); split(s, f, " "); ` +
          `if (f[39] == 2) print n }'`,
        60_000,
      );
      await writeFile(join(ARTIFACTS, 'realtime-threads.txt'), realtime);
      expect(realtime.trim(), "the box's real-time (SCHED_RR) threads in class").not.toBe('');
      expect((await sys.status()).state).toBe('live');
      await sys.screenshotWhenDrawn(join(ARTIFACTS, 'live.png'));
      // Held past session.endHoldMs (2 s).
      await sys.vm.press('ret', 3500);
      await sys.waitForState('idle', 120_000);
    },
    BOOT_TO_READY_MS,
  );

  it(
    'is restarted by systemd after SIGKILL and comes back idle',
    async () => {
      const before = await sys.unit();
      await sys.vm.sh('systemctl kill -s KILL classbox');
      const after = await waitFor(
        async () => {
          const u = await sys.unit();
          return u.ActiveState === 'active' && Number(u.NRestarts) > Number(before.NRestarts) ? u : undefined;
        },
        RESTART_MS,
        'classbox.service restarted and ready',
        3000,
      );
      expect(after.MainPID).not.toBe(before.MainPID);
      await sys.waitForIdleScreen(RESTART_MS);
    },
    2 * RESTART_MS,
  );

  it(
    "is restarted by systemd's watchdog when the daemon freezes (SIGSTOP)",
    async () => {
      const before = await sys.unit();
      const timeouts = async () =>
        Number(
          (
            await sys.vm.shell("journalctl -b -u classbox --no-pager -o cat | grep -c 'Watchdog timeout'")
          ).output.trim(),
        );
      const earlier = await timeouts();
      await sys.vm.sh('systemctl kill -s STOP --kill-whom=main classbox');
      // The frozen daemon sends no WATCHDOG=1; systemd aborts and restarts it (WatchdogSec, 150 s in the VM).
      await waitFor(async () => (await timeouts()) > earlier, 300_000, "systemd's watchdog to fire", 3000);
      await waitFor(
        async () => {
          const u = await sys.unit();
          return u.ActiveState === 'active' && u.SubState === 'running' && u.MainPID !== before.MainPID;
        },
        RESTART_MS,
        'classbox.service restarted and ready',
        3000,
      );
      await sys.waitForIdleScreen(RESTART_MS);
    },
    2 * RESTART_MS,
  );

  it('leaves no seed on the card after the run', async () => {
    await sys.saveGuestLogs();
    await sys.vm.stop();
    expect(await bootfsHas(sys.disk, 'classbox-enrol.json')).toBe(false);
  }, 60_000);
});
