import type { PageMessage, ScreenState } from '../../protocol/kiosk-messages';

type Catchup = NonNullable<ScreenState['catchup']>;

/** The page says how far a part has played at least this often (seconds of video). */
const PROGRESS_EVERY_S = 2;

/**
 * The catch-up replay (issue 21): the missed stretches of the last class, full screen, one part after the
 * other as the daemon says. The daemon decides what plays and whether it is paused (the green button);
 * the page plays it and says when a part has ended, with how much of it was shown.
 */
export class ReplayPlayer {
  private src: string | undefined;
  /** The video's position at the last report, s. */
  private reportedAt = 0;
  private readonly box = document.getElementById('replay') as HTMLElement;
  private readonly video = document.getElementById('replay-video') as HTMLVideoElement;
  private readonly label = document.getElementById('replay-label') as HTMLElement;

  constructor(private readonly send: (message: PageMessage) => void) {
    this.video.addEventListener('ended', () => this.report('ended'));
    // How far it played, so a replay ended by a hold or a class counts what was shown (the daemon
    // stops the video before the page could say so).
    this.video.addEventListener('timeupdate', () => {
      if (Math.abs(this.video.currentTime - this.reportedAt) >= PROGRESS_EVERY_S) this.report('progress');
    });
    this.video.addEventListener('pause', () => this.report('progress'));
    this.video.addEventListener('error', () =>
      this.report('error', this.video.error?.message || `media error ${this.video.error?.code ?? ''}`),
    );
  }

  update(catchup: Catchup | undefined): void {
    const playing = catchup?.playing;
    if (!playing) {
      if (this.src !== undefined) {
        this.src = undefined;
        this.video.pause();
        this.video.removeAttribute('src');
        this.video.load();
      }
      this.box.classList.add('hidden');
      return;
    }
    this.box.classList.remove('hidden');
    if (this.src !== playing.src) {
      this.src = playing.src;
      this.reportedAt = 0;
      this.video.src = playing.src;
    }
    const paused = playing.paused ? '已暂停 · ' : '';
    const pausedEn = playing.paused ? 'Paused · ' : '';
    this.label.replaceChildren(
      `${paused}回放错过的课 ${playing.part}/${playing.parts} · 按绿色按钮暂停或继续，按住结束`,
    );
    const en = document.createElement('span');
    en.className = 'en';
    en.textContent = `${pausedEn}Replay of the missed class ${playing.part}/${playing.parts} · press the green button to pause or resume, hold it to end`;
    this.label.append(en);
    if (playing.paused) this.video.pause();
    else void this.video.play().catch((e: unknown) => console.warn('replay play', e));
  }

  private report(event: 'progress' | 'ended' | 'error', error?: string): void {
    if (this.src === undefined) return;
    this.reportedAt = Number.isFinite(this.video.currentTime) ? this.video.currentTime : 0;
    const watchedMs = Math.round(
      (Number.isFinite(this.video.currentTime) ? this.video.currentTime : 0) * 1000,
    );
    this.send({
      type: 'replay',
      event,
      src: this.src,
      watchedMs,
      ...(error ? { error: error.slice(0, 500) } : {}),
    });
  }
}
