import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchParticipant, joinAsTeacher } from '../test/helpers/browser.js';
import { freePort } from '../test/helpers/ports.js';
import { vmImage, VmSystem } from '../test/system/vm-harness.js';
import { startTeacherServer } from '../device/demo/teacher-server.js';
import type { BenchContext, Figure } from './figure.js';
import { BOX_NAME, startBoxProcess } from './lib/box.js';
import { figureOf, NO_TARGET, notMeasured } from './lib/figures.js';
import { ROOM } from './lib/janus.js';
import { CLI, spawnNode, until } from './lib/processes.js';
import { firstFrameEpoch, nowEpoch, resetFirstFrames } from './lib/teacher.js';

const READY = 'power on → READY=1';
const ENROLLED = 'power on → enrolled';
const PRESS = "USB press → teacher's first frame";

/**
 * The box as a whole system (issue 14): the disk image booted in QEMU under TCG, timed from outside —
 * power on → READY=1 (systemd's console line), → enrolled (the fleet shows it online), USB keyboard press
 * → the teacher's first decoded frame — each beside the same figure for the process-level box (the
 * daemon spawned on this machine in sim mode) in the same run, against the same Janus and fleet server.
 * No target yet (issue 14): the figures are reported.
 */
export async function measure(ctx: BenchContext): Promise<Figure[]> {
  const image = vmImage();
  if (!existsSync(image)) {
    const why = `no VM image at ${image} (build it with scripts/test-system.sh or images/build-vm-image)`;
    return [READY, ENROLLED, PRESS].map((name) => notMeasured(name, 'process-level box', NO_TARGET, why));
  }
  const boots = ctx.smoke ? 1 : 2;
  const processRuns = ctx.smoke ? 2 : 5;
  const vmReady: number[] = [];
  const vmEnrolled: number[] = [];
  const vmPress: number[] = [];
  const procReady: number[] = [];
  const procEnrolled: number[] = [];
  const procPress: number[] = [];
  let pressNote = '';
  for (let boot = 0; boot < boots; boot++) {
    const sys = await VmSystem.open();
    const site = await startTeacherServer();
    const participant = await launchParticipant();
    try {
      await sys.powerOn();
      const poweredOn = sys.vm.poweredOnAt;
      vmReady.push((await sys.readyAt!) - poweredOn);
      vmEnrolled.push((await sys.enrolledAt!) - poweredOn);
      ctx.log(`vm boot ${boot + 1}/${boots}: READY ${vmReady.at(-1)} ms, enrolled ${vmEnrolled.at(-1)} ms`);
      const teacher = await joinAsTeacher(participant.browser, site.url, {
        janus: sys.classroom.janus.url,
        room: ROOM,
        display: '老师',
      });
      if (await sys.usbButton()) {
        // Under TCG on a busy machine the emulated Chromium may not get a frame out in time: that is a
        // finding to report beside the other figures, not a reason to lose them.
        try {
          // As the system test does: press once the self-view shows the camera (the box ready for a class).
          await until(
            () => sys.vm.showsTestPattern(),
            300_000,
            "the camera's picture in the VM's self-view",
            3000,
          );
          await resetFirstFrames(teacher);
          const pressedAt = nowEpoch();
          await sys.vm.press('ret', 150);
          const frame = await firstFrameEpoch(teacher, BOX_NAME, 300_000);
          vmPress.push(frame.at - pressedAt);
          await sys.vm.press('ret', 3500);
          await sys.waitForState('idle', 120_000);
        } catch (error) {
          pressNote += ` Boot ${boot + 1}: ${error instanceof Error ? error.message : String(error)}.`;
        }
      } else {
        pressNote =
          ' The VM image has no USB class button (issue 12 not merged): press not measured in the VM.';
      }
      await sys.vm.stop();
      // The process-level box, same Janus, same fleet, same teacher, right after.
      for (let i = 0; i < processRuns; i++) {
        const box = await startBoxProcess({ url: sys.classroom.janus.url, room: ROOM });
        try {
          procReady.push(box.readyAt - box.proc.spawnedAt);
          await resetFirstFrames(teacher);
          const pressedAt = await box.pressClass();
          const frame = await firstFrameEpoch(teacher, BOX_NAME, 30_000);
          procPress.push(frame.at - (performance.timeOrigin + pressedAt));
        } finally {
          await box.stop();
        }
        procEnrolled.push(await processEnrolment(sys, `jx-ruijin-${String(10 + boot * 10 + i)}`));
        ctx.log(
          `process box ${i + 1}/${processRuns}: READY ${procReady.at(-1)?.toFixed(0)} ms, enrolled ${procEnrolled.at(-1)?.toFixed(0)} ms, press ${procPress.at(-1)?.toFixed(0)} ms`,
        );
      }
    } finally {
      await participant.close();
      await site.close();
      await sys.close();
    }
  }
  const vmNote = `QEMU TCG (no KVM), -smp 2 -m 2048, ${boots} boot(s) of ${image}; times from QEMU's spawn, watched from outside.`;
  return [
    figureOf({
      name: READY,
      unit: 'ms',
      samples: vmReady,
      anchor: 'process-level box: spawn → READY=1',
      anchorSamples: procReady,
      notes: `${vmNote} READY=1 is systemd's "Started classbox.service" on the serial console.`,
    }),
    figureOf({
      name: ENROLLED,
      unit: 'ms',
      samples: vmEnrolled,
      anchor: 'process-level box: spawn → enrolled',
      anchorSamples: procEnrolled,
      notes: `${vmNote} Enrolled = the fleet's admin API shows the box online (polled every 100 ms).`,
    }),
    vmPress.length > 0
      ? figureOf({
          name: PRESS,
          unit: 'ms',
          samples: vmPress,
          anchor: "process-level box: control-API press → teacher's first frame",
          anchorSamples: procPress,
          notes: `${vmNote} QMP input-send-event key down → the janus.js teacher's first decoded frame of the box.${pressNote}`,
        })
      : notMeasured(PRESS, 'process-level box', NO_TARGET, pressNote.trim() || 'no press measured'),
  ];
}

/** A process-level box enrolling with the same fleet: spawn → the admin API shows it online. */
async function processEnrolment(sys: VmSystem, deviceId: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'classbox-bench-enrol-'));
  try {
    const seed = await sys.mintSeed(deviceId);
    const file = join(dir, 'device.json');
    await writeFile(
      file,
      JSON.stringify({
        // The test fleet speaks plain http on the test's own link, as the system test's does (issue 13).
        fleet: { url: sys.fleet.url, enrolmentFile: seed, allowInsecureHttp: true },
        stateDir: join(dir, 'state'),
        hardware: { mode: 'sim' },
        kiosk: { browser: 'chromium', headless: true, fakeMedia: true, width: 1280, height: 720 },
        control: { port: await freePort() },
        log: { level: 'warn' },
      }),
    );
    const spawnedAt = Date.now();
    const proc = spawnNode([CLI, 'device', '--config', file]);
    try {
      return await until(
        async () => ((await sys.device(deviceId))?.online ? Date.now() - spawnedAt : undefined),
        60_000,
        `process box ${deviceId} enrolled`,
      );
    } finally {
      await proc.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
