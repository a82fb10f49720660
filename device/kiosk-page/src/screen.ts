import { faultText } from '../../../common/error-catalog';
import { pickTeacher } from '../../domain/receive-layers';
import type { SelfTestStatus } from '../../domain/self-test';
import type { ScreenState } from '../../protocol/kiosk-messages';
import type { RemoteFeed } from './media';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

function el(tag: string, className: string | undefined, ...children: (Node | string)[]): HTMLElement {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const c of children) node.append(c);
  return node;
}

const bi = (zh: string, en: string): HTMLElement => el('span', undefined, zh, el('span', 'en', en));

const CHIPS: Record<string, [string, string]> = {
  camera: ['摄像头', 'Camera'],
  microphone: ['麦克风', 'Mic'],
  speaker: ['扬声器', 'Speaker'],
  buttons: ['按钮', 'Button'],
  storage: ['存储', 'Storage'],
  server: ['课堂服务器', 'Server'],
  kiosk: ['屏幕', 'Screen'],
};

const STEPS: [NonNullable<ScreenState['joinStep']>, string, string][] = [
  ['server', '连接课堂服务器', 'Connecting to the class server'],
  ['publish', '发送本教学点的画面和声音', 'Sending our picture and sound'],
  ['subscribe', '接收老师的画面', "Receiving the teacher's picture"],
];

const SELF_TEST_NAMES: Record<string, [string, string]> = {
  camera: ['摄像头', 'Camera'],
  microphone: ['麦克风', 'Microphone'],
  speaker: ['扬声器（应听到提示音）', 'Speaker (you should hear a tone)'],
  network: ['网络', 'Network'],
  server: ['课堂服务器', 'Class server'],
};

/** The word for each self-test status; "not checked" when the screen could not try the device. */
const SELF_TEST_WORDS: Record<SelfTestStatus, [string, string]> = {
  running: ['检查中', 'Checking'],
  ok: ['正常', 'OK'],
  failed: ['有问题', 'Problem'],
  unchecked: ['未检查', 'Not checked'],
};

/** Draws the screen for a state. The videos are fixed elements; only words and layout change. */
export class Screen {
  private last: ScreenState | undefined;
  /** What the daemon receives of each feed; a feed it has not planned yet shows as it comes. */
  private shown = new Map<string, Shown>();

  setShown(shown: ReadonlyMap<string, Shown>): void {
    this.shown = new Map(shown);
  }

  render(s: ScreenState | undefined, connected: boolean): void {
    this.last = s;
    const body = document.body;
    const state = !connected || !s ? 'connecting' : s.state;
    body.className = `state-${state}`;
    body.classList.toggle('muted', s?.muted === true);
    body.classList.toggle('selftest', (s?.selfTest?.length ?? 0) > 0 && s?.state === 'idle');
    $('centre').textContent = s ? (s.centreName ? `${s.centreName} · ${s.displayName}` : s.displayName) : '';
    $('self-label').textContent = '本教学点 This centre';
    $('version').textContent = s ? `classbox ${s.version}` : '';
    const next = $('next-class');
    next.replaceChildren();
    if (s?.nextClass) {
      next.append(`下一节课：${s.nextClass.title}（${formatTime(s.nextClass.startsAt)}）`);
      next.append(el('span', 'en', `Next class: ${formatTime(s.nextClass.startsAt, 'en')}`));
    }
    this.chips(s);
    this.panel(s, connected);
    this.countdown(s);
    this.selfTest(s);
    $('muted-sign').classList.toggle('hidden', !s?.muted);
    this.notice(s);
  }

  private chips(s: ScreenState | undefined): void {
    const chips = $('chips');
    chips.replaceChildren();
    if (!s) return;
    for (const [key, [zh, en]] of Object.entries(CHIPS)) {
      const h = s.health[key];
      if (!h) continue;
      chips.append(el('span', `chip ${h.status}`, zh, el('span', 'en', en)));
    }
  }

  private panel(s: ScreenState | undefined, connected: boolean): void {
    const zh = $('title-zh');
    const en = $('title-en');
    const detail = $('detail');
    const code = $('code');
    detail.replaceChildren();
    code.textContent = '';
    if (!connected || !s) {
      zh.textContent = '正在启动…';
      en.textContent = 'Starting up…';
      return;
    }
    switch (s.state) {
      case 'idle': {
        if (!s.enrolled || !s.configured) {
          const setup = s.enrolled ? 'E-NOT-CONFIGURED' : 'E-NOT-ENROLLED';
          const f = faultText(setup);
          zh.textContent = f.zh;
          en.textContent = f.en;
          detail.append(bi(f.actionZh, f.actionEn));
          code.textContent = `代码 Code: ${setup}`;
          return;
        }
        if (s.catchup) {
          // Lesson catch-up (issue 21): the press replays what the centre missed, not a class.
          zh.textContent = `错过了 ${s.catchup.missedMinutes} 分钟 · 按绿色按钮回放`;
          en.textContent = `Missed ${s.catchup.missedMinutes} min — press the green button to replay`;
        } else {
          zh.textContent = '请按绿色按钮开始上课';
          en.textContent = 'Press the green button to start class';
        }
        const testSecs = (s.selfTestHoldMs / 1000).toLocaleString('zh-CN');
        detail.append(
          el(
            'div',
            'hint-selftest',
            `设备自检：按住静音按钮 ${testSecs} 秒`,
            el('span', 'en', `Self-test: hold the mute button for ${testSecs} seconds`),
          ),
        );
        const problems = Object.entries(s.health).filter(([, h]) => h.status !== 'ok' && h.code);
        for (const [, h] of problems) {
          const f = faultText(h.code!);
          detail.append(el('div', undefined, `⚠ ${f.zh}`, el('span', 'en', f.en)));
        }
        if (problems.length > 0)
          code.textContent = `代码 Code: ${problems.map(([, h]) => h.code).join(', ')}`;
        return;
      }
      case 'joining': {
        zh.textContent = '正在进入课堂';
        en.textContent = 'Joining the class';
        const current = STEPS.findIndex(([k]) => k === (s.joinStep ?? 'server'));
        const list = el('ul', 'steps');
        STEPS.forEach(([, z, e], i) =>
          list.append(
            el('li', i < current ? 'done' : i === current ? 'now' : 'todo', z, el('span', 'en', e)),
          ),
        );
        detail.append(list);
        return;
      }
      case 'leaving':
        zh.textContent = '正在下课';
        en.textContent = 'Ending the class';
        detail.append(bi('请稍候，马上就好', 'One moment please'));
        return;
      case 'error': {
        const f = faultText(s.errorCode ?? 'E-INTERNAL');
        zh.textContent = f.zh;
        en.textContent = f.en;
        detail.append(bi(f.actionZh, f.actionEn));
        code.textContent = `代码 Code: ${s.errorCode ?? 'E-INTERNAL'}`;
        return;
      }
      case 'live':
      case 'reconnecting':
        zh.textContent = '';
        en.textContent = '';
        return;
    }
  }

  private notice(s: ScreenState | undefined): void {
    const notice = $('notice');
    notice.classList.remove('bad');
    let content: HTMLElement | undefined;
    if (s?.state === 'reconnecting') {
      const f = faultText(s.errorCode ?? 'E-CONNECTION-LOST');
      content = bi(
        `网络中断，正在重新连接… ${f.zh === faultText('E-CONNECTION-LOST').zh ? '' : f.zh}`,
        `Reconnecting… ${f.en}`,
      );
      notice.classList.add('bad');
    } else if (s?.state === 'live' && s.hint === 'holdToEnd') {
      const secs = (s.endHoldMs / 1000).toLocaleString('zh-CN');
      content = bi(
        `要下课，请按住绿色按钮 ${secs} 秒`,
        `To end the class, hold the green button for ${secs} seconds`,
      );
    } else if (s?.state === 'live' && s.health.camera && s.health.camera.status !== 'ok') {
      content = bi(
        '摄像头已断开，课堂继续（只有声音）',
        'Camera unplugged: the class goes on with sound only',
      );
      notice.classList.add('bad');
    } else if (s?.state === 'live' && s.audioOnly) {
      content = bi('网络较慢，现在只传送声音', 'Slow network: sending sound only');
    }
    notice.replaceChildren(...(content ? [content] : []));
    notice.classList.toggle('hidden', !content);
  }

  private countdown(s: ScreenState | undefined): void {
    const box = $('countdown');
    const ms = s?.endCountdownMs;
    if (ms === undefined || !s) {
      box.classList.add('hidden');
      return;
    }
    const done = 1 - ms / s.endHoldMs;
    box.replaceChildren(
      el('div', 'big', `${(ms / 1000).toFixed(1)}`),
      el('div', 'zh', '继续按住即下课'),
      el('div', 'en', 'Keep holding to end the class'),
      el('div', 'bar', el('div', undefined)),
    );
    (box.querySelector('.bar div') as HTMLElement).style.width = `${Math.round(done * 100)}%`;
    box.classList.remove('hidden');
  }

  private selfTest(s: ScreenState | undefined): void {
    const box = $('selftest');
    const checks = s?.state === 'idle' ? s.selfTest : undefined;
    if (!checks || checks.length === 0) {
      box.classList.add('hidden');
      return;
    }
    const list = el('ul', undefined);
    for (const c of checks) {
      const [zh, en] = SELF_TEST_NAMES[c.check] ?? [c.check, c.check];
      const word = SELF_TEST_WORDS[c.status];
      const item = el('li', c.status, `${zh}：${word[0]}`, el('span', 'en', `${en}: ${word[1]}`));
      if (c.detail) {
        // A failed check's detail starts with its fault code: plain words first, the code for IT after.
        const code = /^E-[A-Z-]+/.exec(c.detail)?.[0];
        const f = code ? faultText(code) : undefined;
        item.append(el('span', 'detail', f ? `${f.zh} · ${f.en} (${c.detail})` : c.detail));
      }
      list.append(item);
    }
    box.replaceChildren(el('h2', undefined, '设备自检', el('span', 'en', 'Self-test')), list);
    box.classList.remove('hidden');
  }

  /** Place remote feeds: the teacher large, other centres in the column. */
  layout(feeds: RemoteFeed[], attach: (video: HTMLVideoElement, feed: RemoteFeed) => void): void {
    const teacher = pickTeacher(feeds);
    const teacherTile = $('teacher-tile');
    const teacherVideo = $<HTMLVideoElement>('teacher-video');
    teacherTile.classList.toggle('hidden', !teacher);
    let waiting = document.getElementById('waiting');
    if (!teacher) {
      if (!waiting) {
        waiting = el(
          'div',
          'waiting',
          '等待老师进入课堂…',
          el('span', 'en', 'Waiting for the teacher to join…'),
        );
        waiting.id = 'waiting';
        $('stage').append(waiting);
      }
    } else {
      waiting?.remove();
      $('teacher-label').textContent = teacher.display;
      if (teacherVideo.srcObject !== teacher.stream) attach(teacherVideo, teacher);
      // The downlink can't carry the teacher's picture: say so over the last frame; the sound goes on.
      const paused = this.shown.get(teacher.feed) === 'paused';
      teacherTile.dataset.shown = paused ? 'paused' : 'teacher';
      let note = document.getElementById('teacher-paused');
      if (paused && !note) {
        note = el(
          'div',
          'paused-note',
          '网络较慢，老师的画面暂停，声音继续',
          el('span', 'en', "Slow network: the teacher's picture is paused, the sound goes on"),
        );
        note.id = 'teacher-paused';
        teacherTile.append(note);
      } else if (!paused) note?.remove();
    }
    const others = $('others');
    const wanted = feeds.filter((f) => f !== teacher);
    for (const tile of [...others.children] as HTMLElement[]) {
      if (!wanted.some((f) => f.feed === tile.dataset.feed)) tile.remove();
    }
    for (const feed of wanted) {
      let tile = others.querySelector<HTMLElement>(`[data-feed="${CSS.escape(feed.feed)}"]`);
      if (!tile) {
        const video = document.createElement('video');
        video.autoplay = true;
        video.playsInline = true;
        tile = el(
          'div',
          'tile',
          video,
          el('div', 'label', feed.display),
          el('div', 'sound-only', '仅声音', el('span', 'en', 'Sound only')),
        );
        tile.dataset.feed = feed.feed;
        others.append(tile);
      }
      const video = tile.querySelector('video')!;
      (tile.querySelector('.label') as HTMLElement).textContent = feed.display;
      // Beyond the decode cap a centre is its name with its sound: no video is decoded for it.
      tile.dataset.shown = this.shown.get(feed.feed) === 'name' ? 'name' : 'thumbnail';
      if (video.srcObject !== feed.stream) attach(video, feed);
    }
  }

  get state(): ScreenState | undefined {
    return this.last;
  }
}

type Shown = 'teacher' | 'thumbnail' | 'name' | 'paused';

function formatTime(iso: string, locale: 'zh-CN' | 'en' = 'zh-CN'): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(locale === 'en' ? 'en-GB' : 'zh-CN', {
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });
}
