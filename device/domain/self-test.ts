/**
 * The self-test a tutor starts by holding the class button for 5 s while idle: what is checked,
 * in which order, and the words the screen shows for each check (Chinese first, English alongside).
 */
export const SELF_TEST_CHECKS = ['camera', 'microphone', 'speaker', 'network', 'server'] as const;
export type SelfTestCheck = (typeof SELF_TEST_CHECKS)[number];

/** `unchecked`: the device is there, but the screen could not try it (no kiosk page). */
export type SelfTestStatus = 'running' | 'ok' | 'failed' | 'unchecked';

export interface SelfTestResult {
  readonly check: SelfTestCheck;
  readonly status: SelfTestStatus;
  /** When failed: a fault code (see common/error-catalog.ts) and what went wrong; when ok or unchecked: what was found. */
  readonly code?: string;
  readonly detail?: string;
}

export const SELF_TEST_NAMES: Record<SelfTestCheck, { zh: string; en: string }> = {
  camera: { zh: '摄像头', en: 'Camera' },
  microphone: { zh: '麦克风', en: 'Microphone' },
  speaker: { zh: '扬声器', en: 'Speaker' },
  network: { zh: '网络', en: 'Network' },
  server: { zh: '课堂服务器', en: 'Class server' },
};

/** The line the page shows for a result: "摄像头 Camera: E-CAMERA-MISSING no USB camera is plugged in". */
export function selfTestDetail(result: SelfTestResult): string | undefined {
  if (result.code && result.detail) return `${result.code} ${result.detail}`;
  return result.code ?? result.detail;
}
