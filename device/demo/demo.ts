import { createInterface } from 'node:readline';
import { reason } from '../../common/errors.js';
import { parseDeviceConfig } from '../config/device-config.loader.js';
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
  headless: boolean;
  displayName: string;
}

const HELP = `
  Keys:  Enter or c = press the green class button    h = hold it (end the class)
         m = mute button    s = status    t = self-test hold    q or Ctrl-C = quit
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
    say('Starting the simulated box …');
    const config = parseDeviceConfig(
      {
        device: { id: 'demo-box', displayName: options.displayName, centreName: '示范教学点 Demo centre' },
        janus: { url: janus.url, room: options.room },
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
        stateDir: '/tmp/classbox-demo',
      },
      'demo',
    );
    daemon = await startDaemon(config);
    stops.push(() => daemon.stop());
    const teacherUrl = `${teacher.url}?janus=${encodeURIComponent(janus.url)}&room=${options.room}`;
    say(`
classbox demo is running.
  The box's screen:      ${daemon.url}/api/kiosk/screenshot  (a PNG of the kiosk${options.headless ? ', which runs headless here' : ' window'})
  The box's status:      ${daemon.url}/api/status
  The teacher's page:    ${teacherUrl}
                         (open it in a browser on this machine to join the class with your camera)
  Janus:                 ${janus.url}${janus.usesNetns ? ' (in its own network namespace)' : ''}
${HELP}`);
  } catch (error) {
    say(`Can't start the demo: ${reason(error)}`);
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
          say('  holding the class button for the self-test …');
          void buttons.simulatePress('class', 5600);
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
      createInterface({ input: process.stdin }).on('line', (line) => act(line.trim().toLowerCase()));
      process.stdin.on('end', () => undefined);
    }
  });
  await done;
  clearInterval(timer);
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
  process.stdin.pause();
  say('Stopping the demo …');
  await stopAll();
  say('Stopped.');
  return 0;
}
