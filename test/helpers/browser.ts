import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { required } from './requirements.js';

export const CHROMIUM = process.env.CLASSBOX_CHROMIUM ?? '/usr/bin/chromium';

/** Chromium is at `CHROMIUM`: in CI its absence fails the run (see `required`). */
export function hasChromium(): boolean {
  return required(`Chromium at ${CHROMIUM} (set CLASSBOX_CHROMIUM)`, existsSync(CHROMIUM));
}

/** Headless Chromium with fake camera and microphone, quiet on a closed network (DESIGN.md). */
export const PARTICIPANT_FLAGS = [
  '--no-sandbox',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
] as const;

/** A separate headless Chromium with fake camera and microphone: a teacher or another centre. */
export async function launchParticipant(
  extraArgs: readonly string[] = [],
): Promise<{ browser: Browser; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'classbox-participant-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    pipe: true,
    userDataDir: profile,
    args: [...PARTICIPANT_FLAGS, ...extraArgs],
  });
  return {
    browser,
    close: async () => {
      const proc = browser.process();
      await Promise.race([browser.close().catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
      if (proc && proc.exitCode === null) proc.kill('SIGKILL');
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export interface RemoteSeen {
  feed: string;
  display: string;
  framesDecoded: number;
  audioBytes: number;
  playedFrames: number;
  /** The box's picture as the teacher decodes it now (inbound-rtp frameWidth/frameHeight/framesPerSecond). */
  width: number;
  height: number;
  fps: number;
  videoCodec?: string;
  audioCodec?: string;
  concealedSamples: number;
  totalSamplesReceived: number;
  /** The inbound audio's raw counters (inbound-rtp: packets lost, concealment, jitter buffer), for diagnosis. */
  audio?: Record<string, number>;
}

/**
 * Open the teacher page (janus.js) in `browser` and join `room` as `display`; with `classId` instead,
 * the page asks its server's fleet which node and room (issue 19) and follows the class when it moves.
 */
export async function joinAsTeacher(
  browser: Browser,
  pageUrl: string,
  params: {
    display: string;
    pin?: string;
    audioOnly?: boolean;
    /** Publish nothing, only watch (a cheap subscriber for the bench). */
    viewOnly?: boolean;
    /** Send janus.js's simulcast layers (h, m, l), from a camera of janus.js's `capture` size. */
    simulcast?: boolean;
    capture?: 'hires' | 'stdres-16:9' | 'lowres-16:9' | 'clock';
    /**
     * false: subscribe to no one (a centre that only sends: cheap on this machine); a display name:
     * subscribe to that publisher only (an observer of one box).
     */
    receive?: boolean | string;
  } & ({ janus: string; room: number } | { classId: string } | { lecture: number }),
): Promise<Page> {
  const page = await browser.newPage();
  const query = new URLSearchParams(
    'classId' in params
      ? { class: params.classId, display: params.display }
      : 'lecture' in params
        ? { lecture: String(params.lecture), display: params.display }
        : { janus: params.janus, room: String(params.room), display: params.display },
  );
  if (params.pin) query.set('pin', params.pin);
  if (params.audioOnly) query.set('publish', 'audio');
  if (params.viewOnly) query.set('publish', 'none');
  if (params.simulcast) query.set('simulcast', '1');
  if (params.capture) query.set('capture', params.capture);
  if (params.receive === false) query.set('subscribe', 'none');
  else if (typeof params.receive === 'string') query.set('subscribe', `only:${params.receive}`);
  await page.goto(`${pageUrl}?${query.toString()}`);
  await waitFor(
    () => page.evaluate('window.teacher && window.teacher.state.feed'),
    15_000,
    `${params.display} joined`,
  );
  return page;
}

export function teacherSees(page: Page): Promise<RemoteSeen[]> {
  return page.evaluate('window.teacher.remote()') as Promise<RemoteSeen[]>;
}

/** Poll until `check` returns a truthy value; fails naming what was awaited. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs: number,
  what: string,
  everyMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
