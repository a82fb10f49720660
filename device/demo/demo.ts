import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { reason } from '../../common/errors.js';
import { logToFile } from '../../common/logger.js';
import { AdminApiClient } from '../../provisioning/adapters/admin-api.http.js';
import type { EnrolmentSeed } from '../../common/fleet-protocol.js';
import { startFleetServer } from '../../provisioning/fleet-server.js';
import { generateAdminToken } from '../../provisioning/services/admin-auth.service.js';
import { loadDeviceConfig } from '../config/device-config.loader.js';
import { startDaemon, type RunningDaemon } from '../daemon.js';
import { ButtonsService } from '../services/buttons.service.js';
import { StatusService } from '../services/status.service.js';
import { JanusServer } from './janus-server.js';
import { startTeacherServer } from './teacher-server.js';

export interface DemoOptions {
  room: number;
  boxPort: number;
  teacherPort: number;
  janusPort: number;
  fleetPort: number;
  headless: boolean;
  displayName: string;
}

const HELP = `
  Keys:  Enter or c = press the green class button    h = hold it (end the class)
         m = mute button    t = hold the mute button (self-test)    s = status    q or Ctrl-C = quit
`;

/**
 * `classbox demo`: a local Janus, a simulated box with its kiosk, a teacher page; buttons from the terminal.
 * Everything started here is stopped on Ctrl-C, SIGTERM or `q`.
 */
export async function runDemo(
  options: DemoOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const say = (text: string) => out.write(`${text}\n`);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((error: unknown) => say(`  (while stopping: ${reason(error)})`));
  };
  let daemon: RunningDaemon;
  let janus: JanusServer;
  let dashboard: string;
  // The terminal is for the summary and the keys; the JSON logs of the box and the fleet go to a file.
  const logFile = join(tmpdir(), `classbox-demo-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  logToFile(logFile);
  say(`Logs go to ${logFile}`);
  try {
    say('Starting Janus (videoroom) …');
    janus = new JanusServer({
      rooms: [{ room: options.room, description: 'classbox demo 示范课堂' }],
      wsPort: options.janusPort,
    });
    stops.push(() => janus.stop());
    await janus.start();
    const teacher = await startTeacherServer(options.teacherPort);
    stops.push(() => teacher.close());
    say('Starting the fleet server (SQLite) and enrolling the box …');
    const dir = await mkdtemp(join(tmpdir(), 'classbox-demo-'));
    stops.push(() => rm(dir, { recursive: true, force: true }));
    const adminToken = generateAdminToken();
    const fleet = await startFleetServer({
      db: join(dir, 'fleet.db'),
      port: options.fleetPort,
      host: '127.0.0.1',
      firstAdminToken: adminToken,
    });
    stops.push(() => fleet.stop());
    const seed = await prepareEnrolment(fleet.url, adminToken, janus.url, options);
    const seedFile = join(dir, 'classbox-enrol.json');
    await writeFile(seedFile, JSON.stringify(seed), { mode: 0o600 });
    // The box knows only its fleet server: its name, room and Janus come from the enrolment, as on a real box.
    const configFile = join(dir, 'device.json');
    await writeFile(
      configFile,
      JSON.stringify({
        fleet: { url: fleet.url, enrolmentFile: seedFile, heartbeatSeconds: 5 },
        hardware: { mode: 'sim' },
        kiosk: {
          browser: 'chromium',
          headless: options.headless,
          fakeMedia: true,
          fullscreen: false,
          width: 1280,
          height: 720,
        },
        control: { port: options.boxPort },
        log: { level: 'warn' },
        stateDir: join(dir, 'state'),
      }),
    );
    say('Starting the simulated box …');
    const config = await loadDeviceConfig(configFile);
    dashboard = `${fleet.url}/  (sign in with ${adminToken})`;
    daemon = await startDaemon(config);
    stops.push(() => daemon.stop());
    const teacherUrl = `${teacher.url}?janus=${encodeURIComponent(janus.url)}&room=${options.room}`;
    say(`
classbox demo is running.
  The box's screen:      ${daemon.url}/api/kiosk/screenshot  (a PNG of the kiosk${options.headless ? ', which runs headless here' : ' window'})
  The box's status:      ${daemon.url}/api/status
  The teacher's page:    ${teacherUrl}
                         (open it in a browser on this machine to join the class with your camera)
  The IT dashboard:      ${dashboard}
  Janus:                 ${janus.url}${janus.usesNetns ? ' (in its own network namespace)' : ''}
  Logs (JSON lines):     ${logFile}
${HELP}`);
  } catch (error) {
    say(`Can't start the demo: ${reason(error)} (the logs are in ${logFile})`);
    await stopAll();
    return 1;
  }

  const buttons = daemon.app.get(ButtonsService);
  const status = daemon.app.get(StatusService);
  let last = '';
  const timer = setInterval(() => {
    const s = status.status();
    const line = `[box] ${s.state}${s.errorCode ? ` ${s.errorCode}` : ''}${s.muted ? ' (muted)' : ''} · others: ${s.remoteFeeds.map((f) => f.display).join(', ') || 'none'}`;
    if (line !== last) say((last = line));
  }, 250);

  let lines: ReturnType<typeof createInterface> | undefined;
  const done = new Promise<void>((resolve) => {
    const onSignal = () => resolve();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const act = (key: string) => {
      switch (key) {
        case '':
        case 'c':
        case 'press':
          void buttons.simulatePress('class', 150);
          return;
        case 'h':
        case 'hold':
          say('  holding the class button …');
          void buttons.simulatePress('class', 2600);
          return;
        case 't':
          say('  holding the mute button for the self-test …');
          void buttons.simulatePress('mute', 5600);
          return;
        case 'm':
        case 'mute':
          void buttons.simulatePress('mute', 120);
          return;
        case 's':
        case 'status':
          say(JSON.stringify(status.status(), null, 2));
          return;
        case 'q':
        case 'quit':
          resolve();
          return;
        default:
          say(HELP);
      }
    };
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      process.stdin.resume();
      process.stdin.on('data', (data: Buffer) => {
        const key = data.toString();
        if (key === '\u0003') return resolve();
        act(key === '\r' || key === '\n' ? '' : key.trim().toLowerCase());
      });
    } else {
      // Not a terminal (a test, a pipe): one command per line.
      lines = createInterface({ input: process.stdin });
      lines.on('line', (line) => act(line.trim().toLowerCase()));
    }
  });
  await done;
  clearInterval(timer);
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
  lines?.close();
  // The terminal (or pipe) would otherwise keep the process alive after everything has stopped.
  process.stdin.destroy();
  say('Stopping the demo …');
  await stopAll();
  say('Stopped.');
  // Everything started here is stopped; a library's leftover handle must not keep the terminal waiting.
  setTimeout(() => process.exit(0), 500).unref();
  return 0;
}

/** Create the demo centre with its room on the fleet server and mint the box's enrolment seed. */
async function prepareEnrolment(
  fleetUrl: string,
  adminToken: string,
  janusUrl: string,
  options: DemoOptions,
): Promise<EnrolmentSeed> {
  const admin = new AdminApiClient(fleetUrl, adminToken);
  const now = new Date();
  const weekday = ((now.getDay() + 6) % 7) + 1;
  await admin.createCentre({
    id: 'demo-centre',
    name: '示范教学点 Demo centre',
    region: '江西 Jiangxi',
    room: { janusUrl, room: options.room },
    timetable: [{ title: '示范课 Demo lesson', weekday, start: '23:00', end: '23:45' }],
  });
  const minted = await admin.mintTokens('demo-centre', {
    count: 1,
    expiresInSeconds: 3600,
    deviceIds: ['demo-box'],
    displayNames: [options.displayName],
  });
  return minted.tokens[0]!.seed;
}
