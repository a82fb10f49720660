import type { ComponentChildren } from 'preact';
import { ApiError } from './api.js';

/** Chinese first, English alongside, smaller. */
export function Both({ zh, en }: { zh: string; en: string }) {
  return (
    <>
      {zh} <small>{en}</small>
    </>
  );
}

/** A fault in plain words; every bad field the server named is listed. */
export function ErrorBox({ error }: { error: unknown }) {
  const lines =
    error instanceof ApiError && error.details?.length
      ? error.details
      : [error instanceof Error ? error.message : String(error)];
  return (
    <div class="error" role="alert">
      <strong>出错了 Error: </strong>
      {lines.join('; ')}
    </div>
  );
}

export function Card({
  title,
  children,
  ...rest
}: {
  title?: ComponentChildren;
  children: ComponentChildren;
  [key: string]: unknown;
}) {
  return (
    <section class="card" {...rest}>
      {title !== undefined && <h2>{title}</h2>}
      {children}
    </section>
  );
}

export function ago(iso: string | null): string {
  if (!iso) return '从未 never';
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} 秒前 s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} 分钟前 min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} 小时前 h ago`;
  return `${Math.round(seconds / 86_400)} 天前 days ago`;
}

export const WEEKDAYS = ['周一 Mon', '周二 Tue', '周三 Wed', '周四 Thu', '周五 Fri', '周六 Sat', '周日 Sun'];

export const ACTIONS: Record<string, string> = {
  'restart-kiosk': '重启屏幕 Restart kiosk',
  'reboot-when-idle': '空闲时重启 Reboot when idle',
  snapshot: '拍照 Snapshot',
  screenshot: '屏幕截图 Screenshot',
};
