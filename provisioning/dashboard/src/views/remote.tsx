import type { ComponentChildren } from 'preact';
import { useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ActionView, DeviceLogsView } from '../../../protocol/admin-views.schema.js';
import { api, enc, image } from '../api.js';
import { ShellContext } from '../shell.js';
import { ACTIONS, Both, Choice, ErrorBox, Field } from '../ui.js';

const POLL_MS = 2000;

/** A time as IT reads it: China Standard Time, 24 h. */
const shownAt = (iso: string) =>
  iso ? new Date(iso).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false }) : '';
const GIVE_UP_AFTER = 90;

/** Actions whose answer the panel shows: a picture, or the box's log. */
type Answered = 'snapshot' | 'screenshot' | 'logs';
type Answer = { picture: { url: string; takenAt: string } } | { logs: DeviceLogsView };

const TITLES: Record<Answered, [zh: string, en: string]> = {
  snapshot: ['拍照', 'camera snapshot'],
  screenshot: ['屏幕', 'screen'],
  logs: ['日志', 'log'],
};

/** One JSON line of the box's log, as pino wrote it; a line that is not JSON is shown as it is. */
interface LogLine {
  time?: string;
  level?: string;
  ctx?: string;
  msg?: string;
  rest: string;
}

function parseLine(line: string): LogLine {
  try {
    const { time, level, ctx, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return {
      time: text(time),
      level: text(level),
      ctx: text(ctx),
      msg: text(msg),
      rest: Object.keys(rest).length ? JSON.stringify(rest) : '',
    };
  } catch {
    return { rest: line };
  }
}

const LEVELS: [string, string][] = [
  ['', '全部 All levels'],
  ['warn', '警告及以上 Warnings and errors'],
  ['error', '错误 Errors'],
];
const RANK: Record<string, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, fatal: 5 };

/** The box's latest log lines, newest last, with a level and a text filter. */
function LogLines({ logs }: { logs: DeviceLogsView }) {
  const [level, setLevel] = useState('');
  const [text, setText] = useState('');
  const lines = useMemo(() => logs.lines.map(parseLine), [logs]);
  const list = useRef<HTMLOListElement>(null);
  // Newest last, as a log is read: the list opens scrolled to its end.
  useEffect(() => {
    if (list.current) list.current.scrollTop = list.current.scrollHeight;
  }, [logs]);
  const needle = text.trim().toLowerCase();
  const shown = lines.filter(
    (l) =>
      (!level || (RANK[l.level ?? ''] ?? RANK.info!) >= RANK[level]!) &&
      (!needle || `${l.ctx ?? ''} ${l.msg ?? ''} ${l.rest}`.toLowerCase().includes(needle)),
  );
  return (
    <>
      <form class="inline" onSubmit={(e) => e.preventDefault()}>
        <Choice id="log-level" zh="级别" en="Level" value={level} options={LEVELS} onValue={setLevel} />
        <Field id="log-search" zh="查找" en="Find" type="search" value={text} onValue={setText} />
        <span class="muted" id="log-count">
          {shown.length} / {lines.length} 行 lines · 敏感信息已隐去 secrets redacted
        </span>
      </form>
      <ol class="log-lines" id="log-lines" ref={list} tabIndex={0} aria-label="盒子日志 Box log">
        {shown.map((l) => (
          <li class={`level-${l.level ?? 'none'}`}>
            {l.time && <time dateTime={l.time}>{shownAt(l.time)}</time>}{' '}
            {l.level && <span class="level">{l.level}</span>} {l.ctx && <span class="ctx">{l.ctx}</span>}{' '}
            {l.msg} {l.rest && <span class="muted">{l.rest}</span>}
          </li>
        ))}
      </ol>
    </>
  );
}

/**
 * A remote action's answer arrives with the box's next heartbeat (≤ 30 s): follow the action until
 * it is done, then show what it brought (a picture, or the log).
 */
function RemotePanel({
  deviceId,
  name,
  actionId,
  kind,
}: {
  deviceId: string;
  name: string;
  actionId: string;
  kind: Answered;
}) {
  const shell = useContext(ShellContext);
  const [state, setState] = useState<{ answer?: Answer; error?: unknown }>({});
  const section = useRef<HTMLElement>(null);
  // The panel opens above the page: the focus goes to it (keyboard and screen readers find it there).
  useEffect(() => {
    section.current?.focus();
    section.current?.scrollIntoView();
  }, []);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const path = `/devices/${enc(deviceId)}`;
    const poll = async (round: number) => {
      if (stopped) return;
      if (round >= GIVE_UP_AFTER) {
        setState({
          error: new Error(
            '盒子三分钟内没有回应，可能离线 The box did not answer within 3 minutes; it may be offline',
          ),
        });
        return;
      }
      try {
        const action = (await api<ActionView[]>('GET', `${path}/actions`)).find((a) => a.id === actionId);
        if (action?.status === 'failed') {
          setState({ error: new Error(action.detail ?? `the box could not carry out "${kind}"`) });
          return;
        }
        if (action?.status === 'done') {
          const answer: Answer =
            kind === 'logs'
              ? { logs: await api<DeviceLogsView>('GET', `${path}/logs`) }
              : { picture: await image(`${path}/${kind}`) };
          if (!stopped) setState({ answer });
          return;
        }
      } catch (error) {
        setState({ error });
        return;
      }
      timer = setTimeout(() => void poll(round + 1), POLL_MS);
    };
    timer = setTimeout(() => void poll(0), POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [deviceId, actionId, kind]);
  const url = state.answer && 'picture' in state.answer ? state.answer.picture.url : undefined;
  useEffect(() => () => url && URL.revokeObjectURL(url), [url]);
  const [zh, en] = TITLES[kind];
  let body: ComponentChildren;
  if (state.error !== undefined) body = <ErrorBox error={state.error} />;
  else if (!state.answer) body = <p class="muted">等待盒子回应… Waiting for the box…</p>;
  else if ('picture' in state.answer)
    body = (
      <>
        <img class={kind} src={state.answer.picture.url} alt={`${kind} ${deviceId}`} />
        <small>{shownAt(state.answer.picture.takenAt)}</small>
      </>
    );
  else
    body = (
      <>
        <small>{shownAt(state.answer.logs.takenAt)}</small>
        <LogLines logs={state.answer.logs} />
      </>
    );
  return (
    <section
      class="card"
      id={`panel-${kind}`}
      ref={section}
      tabIndex={-1}
      aria-live="polite"
      onKeyDown={(e) => e.key === 'Escape' && shell.showPanel(null)}
    >
      <h2>
        {name} {zh}{' '}
        <small>
          {en} of {deviceId}
        </small>
      </h2>
      {body}
      <button type="button" onClick={() => shell.showPanel(null)}>
        关闭 Close <small>(Esc)</small>
      </button>
    </section>
  );
}

/** A row of a list of boxes has room for these; the box's own page has every action (its log too). */
export const ROW_ACTIONS = ['restart-kiosk', 'reboot-when-idle', 'snapshot', 'screenshot'];

const answered = (kind: string): kind is Answered =>
  kind === 'snapshot' || kind === 'screenshot' || kind === 'logs';

/** The remote action buttons of a box; one that brings something back opens the panel that waits for it. */
export function ActionButtons({
  deviceId,
  name,
  kinds = Object.keys(ACTIONS),
  onDone,
}: {
  deviceId: string;
  name: string;
  kinds?: string[];
  onDone?(): void;
}) {
  const shell = useContext(ShellContext);
  const [result, setResult] = useState<{ ok: true } | { error: unknown } | undefined>(undefined);
  const request = async (kind: string) => {
    try {
      const action = await api<ActionView>('POST', `/devices/${enc(deviceId)}/actions`, { kind });
      setResult({ ok: true });
      if (answered(kind))
        shell.showPanel(
          <RemotePanel key={action.id} deviceId={deviceId} name={name} actionId={action.id} kind={kind} />,
        );
      onDone?.();
    } catch (error) {
      setResult({ error });
    }
  };
  return (
    <>
      {kinds.map((kind) => (
        <button key={kind} type="button" data-action={kind} onClick={() => void request(kind)}>
          {ACTIONS[kind]}
        </button>
      ))}
      {result && 'ok' in result && (
        <div class="ok">
          <Both zh="已发送，等待盒子下次心跳" en="Sent; waiting for the next heartbeat" />
        </div>
      )}
      {result && 'error' in result && <ErrorBox error={result.error} />}
    </>
  );
}
