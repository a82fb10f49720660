import { randomBytes } from 'node:crypto';
import { JanusServer } from '../../device/demo/janus-server.js';
import type { MediaNodeAccess } from '../../provisioning/ports/media-node-admin.port.js';
import { freePort } from '../../test/helpers/ports.js';

export const ROOM = 2222;

/**
 * A real Janus (netns when root) with the class room at a realistic 2 Mbps cap, as the tests run it; its
 * admin API on, for participants injected as pre-encoded RTP (lib/injected.ts).
 */
export async function startJanus(): Promise<JanusServer & { readonly admin: MediaNodeAccess }> {
  const secret = randomBytes(12).toString('hex');
  const janus = new JanusServer({
    rooms: [{ room: ROOM, description: 'bench class', bitrate: 2_000_000 }],
    wsPort: await freePort(),
    admin: { port: await freePort(), secret },
  });
  await janus.start();
  return Object.assign(janus, { admin: { adminUrl: janus.adminUrl!, adminSecret: secret } });
}
