import { Injectable } from '@nestjs/common';
import { createLogger } from '../../common/logger.js';
import { Signal } from '../../common/signal.js';
import { KioskPagePort } from '../ports/kiosk-page.port.js';

/** The microphone mute, toggled by the mute button; the page mutes the track. */
@Injectable()
export class MuteService {
  private readonly log = createLogger(MuteService.name);
  private muted = false;
  readonly changed = new Signal<boolean>('mute.changed');

  constructor(private readonly page: KioskPagePort) {
    // A relaunched page starts unmuted: tell it the truth.
    page.connected.on(MuteService.name, () => void this.page.send({ type: 'mute', muted: this.muted }));
  }

  get isMuted(): boolean {
    return this.muted;
  }

  toggle(): void {
    this.set(!this.muted);
  }

  set(muted: boolean): void {
    if (muted === this.muted) return;
    this.muted = muted;
    this.log.info(muted ? 'Muted microphone' : 'Unmuted microphone');
    this.page.send({ type: 'mute', muted });
    this.changed.emit(muted);
  }
}
