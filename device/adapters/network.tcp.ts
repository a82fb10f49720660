import { Injectable } from '@nestjs/common';
import { connect } from 'node:net';
import { NetworkError, NetworkPort } from '../ports/network.port.js';

/** A plain TCP connect: proves the route, DNS and the server's port, without speaking its protocol. */
@Injectable()
export class TcpNetwork extends NetworkPort {
  probe(host: string, port: number, timeoutMs: number): Promise<number> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.setTimeout(timeoutMs, () => {
        socket.destroy();
        reject(new NetworkError(`no answer from ${host}:${port} within ${timeoutMs} ms`));
      });
      socket.once('connect', () => {
        socket.destroy();
        resolve(Math.round(performance.now() - started));
      });
      socket.once('error', (error) => {
        socket.destroy();
        reject(new NetworkError(`can't reach ${host}:${port}: ${error.message}`, { cause: error }));
      });
    });
  }
}
