import type { DaemonMessage } from '../../protocol/kiosk-messages';

type Outgoing = Record<string, unknown> & { type: string };

/**
 * The page's line to its daemon on loopback. Reconnects by itself (the daemon restarts on updates);
 * everything sent while disconnected is dropped, because the daemon asks again for what it needs.
 */
export class DaemonChannel {
  private ws: WebSocket | undefined;
  private retryMs = 250;
  onMessage: (message: DaemonMessage) => void = () => undefined;
  onOpen: () => void = () => undefined;
  onClose: () => void = () => undefined;

  constructor(private readonly url: string) {}

  start(): void {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 250;
      this.send({ type: 'hello', page: 'kiosk' });
      this.onOpen();
    };
    ws.onmessage = (event) => {
      try {
        this.onMessage(JSON.parse(String(event.data)) as DaemonMessage);
      } catch (error) {
        console.error('bad message from daemon', error);
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.onClose();
      setTimeout(() => this.start(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 3000);
    };
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  send(message: Outgoing): void {
    if (this.open) this.ws!.send(JSON.stringify(message));
  }
}
