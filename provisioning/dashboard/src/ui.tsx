import type { ComponentChildren, JSX } from 'preact';
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

/** A table's header row: each column in Chinese with English alongside (an empty pair: no title). */
export function Head({ columns }: { columns: [zh: string, en: string][] }) {
  return (
    <thead>
      <tr>
        {columns.map(([zh, en]) => (
          <th scope="col">{zh || en ? <Both zh={zh} en={en} /> : null}</th>
        ))}
      </tr>
    </thead>
  );
}

/**
 * A labelled input of a form: the label names it in both languages, and its text goes to `onValue`.
 * Other attributes (type, min, required, placeholder…) pass through to the input.
 */
export function Field({
  id,
  zh,
  en,
  value,
  onValue,
  ...input
}: {
  id: string;
  zh: string;
  en: string;
  value: string | number;
  onValue(value: string): void;
} & Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'id' | 'value'>) {
  return (
    <>
      <label for={id}>
        <Both zh={zh} en={en} />
      </label>
      <input id={id} value={value} onInput={(e) => onValue(e.currentTarget.value)} {...input} />
    </>
  );
}

/** A labelled choice of a form: `options` are [value, label] pairs, the chosen value goes to `onValue`. */
export function Choice({
  id,
  zh,
  en,
  value,
  options,
  onValue,
}: {
  id: string;
  zh: string;
  en: string;
  value: string;
  options: readonly (readonly [value: string, label: string])[];
  onValue(value: string): void;
}) {
  return (
    <>
      <label for={id}>
        <Both zh={zh} en={en} />
      </label>
      <select id={id} value={value} onChange={(e) => onValue(e.currentTarget.value)}>
        {options.map(([v, label]) => (
          <option value={v}>{label}</option>
        ))}
      </select>
    </>
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
  logs: '查看日志 Logs',
};
