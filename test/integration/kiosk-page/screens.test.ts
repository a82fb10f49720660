import { createReadStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import type { Page } from 'puppeteer-core';
import { WebSocketServer, type WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kioskPageDir } from '../../../device/daemon.js';
import type { ScreenState } from '../../../device/protocol/kiosk-messages.js';
import { launchParticipant, waitFor } from '../../helpers/browser.js';

// The real built page, driven by a scripted daemon: every screen, at both sizes, in Chinese.
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'screens');
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

const ok = { status: 'ok' as const };
const base: ScreenState = {
  state: 'idle',
  displayName: '瑞金教学点',
  centreName: '江西开放大学赣州分校',
  room: 2222,
  configured: true,
  enrolled: true,
  muted: false,
  remoteFeeds: [],
  health: { camera: ok, microphone: ok, speaker: ok, buttons: ok, server: ok, kiosk: ok, storage: ok },
  endHoldMs: 2000,
  selfTestHoldMs: 5000,
  audioOnly: false,
  nextClass: { title: '高等数学（二）第七讲', startsAt: '2026-12-01T14:30:00+08:00' },
  version: '0.1.0',
};

const SCREENS: Record<string, { screen: ScreenState; mustSay: string[] }> = {
  idle: {
    screen: base,
    mustSay: ['请按绿色按钮开始上课', 'Press the green button to start class', '下一节课'],
  },
  'idle-problems': {
    screen: {
      ...base,
      health: {
        ...base.health,
        camera: { status: 'missing', code: 'E-CAMERA-MISSING' },
        server: { status: 'missing', code: 'E-JANUS-UNREACHABLE' },
      },
    },
    mustSay: ['未找到摄像头', '无法连接课堂服务器', 'E-CAMERA-MISSING'],
  },
  'idle-disk-full': {
    screen: { ...base, health: { ...base.health, storage: { status: 'error', code: 'E-DISK-FULL' } } },
    mustSay: ['存储空间已满', 'The storage is full', 'E-DISK-FULL'],
  },
  'idle-usb-button-missing': {
    screen: {
      ...base,
      health: { ...base.health, buttons: { status: 'missing', code: 'E-BUTTON-USB-MISSING' } },
    },
    mustSay: ['未找到USB按钮', 'The USB button is not plugged in', 'E-BUTTON-USB-MISSING'],
  },
  'idle-button-stuck': {
    screen: { ...base, health: { ...base.health, buttons: { status: 'error', code: 'E-BUTTON-STUCK' } } },
    mustSay: ['按钮一直处于按下状态', 'A button is stuck down', 'E-BUTTON-STUCK'],
  },
  'idle-not-configured': {
    screen: { ...base, configured: false },
    mustSay: ['本设备尚未配置课堂', 'E-NOT-CONFIGURED'],
  },
  'idle-not-enrolled': {
    screen: { ...base, configured: false, enrolled: false, displayName: '未登记设备 Unenrolled box' },
    mustSay: ['本设备尚未登记', 'This box is not enrolled yet', 'E-NOT-ENROLLED'],
  },
  'self-test': {
    screen: {
      ...base,
      selfTest: [
        { check: 'camera', status: 'ok' },
        { check: 'microphone', status: 'ok' },
        { check: 'speaker', status: 'unchecked', detail: 'vc4-hdmi-0' },
        {
          check: 'network',
          status: 'failed',
          detail: 'E-JANUS-UNREACHABLE connect ECONNREFUSED 10.0.0.1:8188',
        },
        { check: 'server', status: 'running' },
      ],
    },
    mustSay: ['设备自检', 'Self-test', '网络：有问题', '无法连接课堂服务器', '未检查', 'Not checked'],
  },
  joining: {
    screen: { ...base, state: 'joining', joinStep: 'publish' },
    mustSay: ['正在进入课堂', '发送本教学点的画面和声音'],
  },
  live: { screen: { ...base, state: 'live', remoteFeeds: [] }, mustSay: ['等待老师进入课堂'] },
  'live-hold-countdown': {
    screen: { ...base, state: 'live', endCountdownMs: 1200 },
    mustSay: ['继续按住即下课', '1.2'],
  },
  'live-hold-hint': {
    screen: { ...base, state: 'live', hint: 'holdToEnd' },
    mustSay: ['要下课，请按住绿色按钮 2 秒'],
  },
  'live-muted': { screen: { ...base, state: 'live', muted: true }, mustSay: ['麦克风已静音'] },
  'live-audio-only': {
    screen: { ...base, state: 'live', audioOnly: true },
    mustSay: ['网络较慢，现在只传送声音'],
  },
  'live-camera-unplugged': {
    screen: {
      ...base,
      state: 'live',
      audioOnly: true,
      health: { ...base.health, camera: { status: 'missing', code: 'E-CAMERA-MISSING' } },
    },
    mustSay: ['摄像头已断开，课堂继续'],
  },
  reconnecting: {
    screen: { ...base, state: 'reconnecting', errorCode: 'E-CONNECTION-LOST' },
    mustSay: ['正在重新连接'],
  },
  leaving: { screen: { ...base, state: 'leaving' }, mustSay: ['正在下课'] },
  'error-unreachable': {
    screen: { ...base, state: 'error', errorCode: 'E-JANUS-UNREACHABLE' },
    mustSay: ['无法连接课堂服务器', '代码 Code: E-JANUS-UNREACHABLE'],
  },
  'error-room-pin': {
    screen: { ...base, state: 'error', errorCode: 'E-ROOM-PIN' },
    mustSay: ['课堂密码不正确', 'E-ROOM-PIN'],
  },
  'error-room-missing': {
    screen: { ...base, state: 'error', errorCode: 'E-ROOM-MISSING' },
    mustSay: ['找不到本节课的课堂'],
  },
  'error-kiosk': {
    screen: { ...base, state: 'error', errorCode: 'E-KIOSK-DOWN' },
    mustSay: ['屏幕程序未就绪'],
  },
  'error-timeout': {
    screen: { ...base, state: 'error', errorCode: 'E-JOIN-TIMEOUT' },
    mustSay: ['进入课堂超时'],
  },
};

/** Text that does not fit its box, or boxes outside the screen. */
const OVERFLOW_CHECK = `(() => {
  const bad = [];
  const sel = '#centre, #clock, .chip, #title-zh, #title-en, #detail > *, #code, #notice, #countdown, #selftest li, #muted-sign, #next-class, #version';
  for (const el of document.querySelectorAll(sel)) {
    if (el.closest('.hidden') || !el.textContent.trim()) continue;
    const r = el.getBoundingClientRect();
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflow === 'hidden') bad.push('cut: ' + el.textContent.slice(0, 40));
    if (r.right > innerWidth + 1 || r.bottom > innerHeight + 1 || r.left < -1) bad.push('off screen: ' + el.textContent.slice(0, 40));
  }
  return bad;
})()`;

describe('the kiosk page, every screen', () => {
  let server: Server;
  let wss: WebSocketServer;
  let socket: WebSocket | undefined;
  let url: string;
  let participant: Awaited<ReturnType<typeof launchParticipant>>;

  beforeAll(async () => {
    const root = kioskPageDir();
    if (!existsSync(join(root, 'index.html'))) throw new Error(`${root} is missing: run npm run build first`);
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const file = join(root, normalize(path === '/' ? '/index.html' : path));
      if (!file.startsWith(root) || !existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
      createReadStream(file).pipe(res);
    });
    wss = new WebSocketServer({ server, path: '/ws' });
    wss.on('connection', (ws) => {
      socket = ws;
      ws.send(
        JSON.stringify({
          type: 'config',
          media: { width: 640, height: 480, fps: 15 },
          iceServers: [],
          bitrateKbps: 512,
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    participant = await launchParticipant();
    await mkdir(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await participant?.close();
    wss?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  for (const [width, height] of [
    [1920, 1080],
    [1280, 720],
  ] as const) {
    it(`draws every screen at ${width}×${height} with nothing cut off`, async () => {
      const page: Page = await participant.browser.newPage();
      await page.setViewport({ width, height });
      socket = undefined;
      await page.goto(url);
      await waitFor(() => socket, 10_000, 'the page to connect');
      const problems: string[] = [];
      for (const [name, { screen, mustSay }] of Object.entries(SCREENS)) {
        socket!.send(JSON.stringify({ type: 'screen', screen }));
        await waitFor(
          async () => page.evaluate(`document.body.classList.contains('state-${screen.state}')`),
          5000,
          `the ${name} screen`,
        );
        await new Promise((r) => setTimeout(r, 150));
        const text = (await page.evaluate('document.body.innerText')) as string;
        for (const words of mustSay)
          if (!text.includes(words)) problems.push(`${name}: does not say "${words}"`);
        for (const p of (await page.evaluate(OVERFLOW_CHECK)) as string[]) problems.push(`${name}: ${p}`);
        await writeFile(
          join(ARTIFACTS, `${name}-${width}x${height}.png`),
          await page.screenshot({ type: 'png' }),
        );
      }
      await page.close();
      expect(problems).toEqual([]);
    }, 90_000);
  }

  it('plays the self-test tone on the speaker the daemon chose, not the default output', async () => {
    const page: Page = await participant.browser.newPage();
    // Headless Chromium has no audio outputs to choose from: give the page two, as a Pi with a TV on HDMI
    // and a USB speaker lists them, and record where the tone's AudioContext is sent.
    await page.evaluateOnNewDocument(`(() => {
      const real = navigator.mediaDevices.enumerateDevices.bind(navigator.mediaDevices);
      navigator.mediaDevices.enumerateDevices = async () => [
        ...(await real()),
        { deviceId: 'default', kind: 'audiooutput', label: 'Default', groupId: 'a' },
        { deviceId: 'hdmi-sink-id', kind: 'audiooutput', label: 'vc4-hdmi-0', groupId: 'b' },
      ];
      window.sinks = [];
      AudioContext.prototype.setSinkId = async function (id) { window.sinks.push(id); };
    })()`);
    const replies: unknown[] = [];
    socket = undefined;
    await page.goto(url);
    await waitFor(() => socket, 10_000, 'the page to connect');
    socket!.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type: string };
      if (message.type === 'reply') replies.push(message);
    });
    socket!.send(
      JSON.stringify({
        type: 'config',
        media: { width: 640, height: 480, fps: 15, speakerLabel: 'vc4-hdmi' },
        iceServers: [],
        bitrateKbps: 512,
      }),
    );
    // Same socket, so the page has taken the config when the request comes.
    socket!.send(JSON.stringify({ type: 'request', id: 7, action: 'speaker.tone', hz: 880, ms: 50 }));
    await waitFor(() => replies.length > 0, 10_000, 'the tone to finish');
    expect(replies).toEqual([{ type: 'reply', id: 7, ok: true }]);
    expect(await page.evaluate('window.sinks')).toEqual(['hdmi-sink-id']);
    await page.close();
  }, 60_000);
});
