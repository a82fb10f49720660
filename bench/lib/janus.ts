import { JanusServer } from '../../device/demo/janus-server.js';
import { freePort } from '../../test/helpers/ports.js';

export const ROOM = 2222;

/** A real Janus (netns when root) with the class room at a realistic 2 Mbps cap, as the tests run it. */
export async function startJanus(): Promise<JanusServer> {
  const janus = new JanusServer({
    rooms: [{ room: ROOM, description: 'bench class', bitrate: 2_000_000 }],
    wsPort: await freePort(),
  });
  await janus.start();
  return janus;
}
