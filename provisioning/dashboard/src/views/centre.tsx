import { useRef, useState } from 'preact/hooks';
import type {
  CentreView as Centre,
  DeviceView,
  MintedToken,
  TokenView,
} from '../../../protocol/admin-views.schema.js';
import { api, enc } from '../api.js';
import { useLoad } from '../hooks.js';
import { ago, Both, Card, ErrorBox, Head, WEEKDAYS } from '../ui.js';
import { BoxCell, HealthCell, StatusCell, VersionCell } from './device-cells.js';
import { ActionButtons, ROW_ACTIONS } from './remote.js';

type Entry = Centre['timetable'][number];

function CentreDevices({ devices }: { devices: DeviceView[] }) {
  if (devices.length === 0) return <p class="muted">还没有盒子 No boxes enrolled yet</p>;
  return (
    <table>
      <Head
        columns={[
          ['盒子', 'Box'],
          ['状态', 'Status'],
          ['健康', 'Health'],
          ['版本', 'Version'],
          ['最后在线', 'Last seen'],
          ['远程操作', 'Remote actions'],
        ]}
      />
      <tbody>
        {devices.map((d) => (
          <tr class="device-row" data-device={d.id} key={d.id}>
            <BoxCell device={d} />
            <StatusCell device={d} />
            <HealthCell device={d} />
            <VersionCell device={d} />
            <td>{ago(d.lastSeenAt)}</td>
            <td class="actions">
              <ActionButtons deviceId={d.id} name={d.displayName} kinds={ROW_ACTIONS} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function TimetableEditor({ entries, onChange }: { entries: Entry[]; onChange(entries: Entry[]): void }) {
  const set = (i: number, patch: Partial<Entry>) =>
    onChange(entries.map((e, j) => (j === i ? { ...e, ...patch } : e)));
  return (
    <div>
      <table id="timetable">
        <Head
          columns={[
            ['课程', 'Title'],
            ['星期', 'Day'],
            ['开始', 'Start'],
            ['结束', 'End'],
            ['', ''],
          ]}
        />
        <tbody>
          {entries.map((entry, i) => (
            <tr class="timetable-row">
              <td>
                <input
                  name="title"
                  aria-label="课程 Title"
                  value={entry.title}
                  required
                  size={20}
                  onInput={(e) => set(i, { title: e.currentTarget.value })}
                />
              </td>
              <td>
                <select
                  name="weekday"
                  aria-label="星期 Day"
                  value={entry.weekday}
                  onChange={(e) => set(i, { weekday: Number(e.currentTarget.value) })}
                >
                  {WEEKDAYS.map((label, d) => (
                    <option value={d + 1}>{label}</option>
                  ))}
                </select>
              </td>
              <td>
                <input
                  name="start"
                  type="time"
                  aria-label="开始 Start"
                  value={entry.start}
                  required
                  onInput={(e) => set(i, { start: e.currentTarget.value })}
                />
              </td>
              <td>
                <input
                  name="end"
                  type="time"
                  aria-label="结束 End"
                  value={entry.end}
                  required
                  onInput={(e) => set(i, { end: e.currentTarget.value })}
                />
              </td>
              <td>
                <button type="button" onClick={() => onChange(entries.filter((_, j) => j !== i))}>
                  删除 Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button
        type="button"
        onClick={() => onChange([...entries, { title: '', weekday: 1, start: '09:00', end: '10:00' }])}
      >
        添加课程 Add class
      </button>
    </div>
  );
}

function RoomSettings({ centre }: { centre: Centre }) {
  // Uncontrolled fields, read when saving: what is in the form is what is sent, however it got there.
  const form = useRef<HTMLFormElement>(null);
  const [timetable, setTimetable] = useState<Entry[]>(centre.timetable);
  const [message, setMessage] = useState<{ ok: true } | { error: unknown } | undefined>();
  const field = (
    name: string,
    zh: string,
    en: string,
    value: string,
    attrs: Record<string, unknown> = {},
  ) => [
    <label for={`room-${name}`}>
      <Both zh={zh} en={en} />
    </label>,
    <input id={`room-${name}`} name={name} defaultValue={value} {...attrs} />,
  ];
  const save = async () => {
    const data = new FormData(form.current!);
    const value = (name: string) => String(data.get(name) ?? '').trim();
    const room: Record<string, unknown> = { janusUrl: value('janusUrl'), room: Number(value('room')) };
    if (value('bitrateKbps')) room.bitrateKbps = Number(value('bitrateKbps'));
    if (value('pin')) room.pin = value('pin');
    try {
      await api('PATCH', `/centres/${enc(centre.id)}`, {
        name: value('name'),
        region: value('region'),
        timezone: value('timezone'),
        room,
        timetable: timetable.map((t) => ({ ...t, title: t.title.trim() })),
      });
      setMessage({ ok: true });
    } catch (error) {
      setMessage({ error });
    }
  };
  return (
    <Card title={<Both zh="课堂设置与课表" en="Room settings and timetable" />}>
      <form class="grid" id="room-form" ref={form} onSubmit={(e) => e.preventDefault()}>
        {field('name', '名称', 'Name', centre.name, { required: true })}
        {field('region', '地区', 'Region', centre.region, { required: true })}
        {field('janusUrl', 'Janus 地址', 'Janus URL', centre.room.janusUrl, { required: true, size: 40 })}
        {field('room', '房间号', 'Room', String(centre.room.room), {
          type: 'number',
          min: 1,
          required: true,
        })}
        {field('bitrateKbps', '码率 kbps', 'Bitrate', String(centre.room.bitrateKbps ?? ''), {
          type: 'number',
          min: 64,
          max: 8000,
        })}
        {field('pin', '房间密码', 'Room PIN', '', {
          type: 'password',
          autocomplete: 'off',
          placeholder: centre.room.pinSet ? '已设置，留空不变 set; blank keeps it' : '未设置 not set',
        })}
        {field('timezone', '时区', 'Time zone', centre.timezone, { required: true })}
      </form>
      <h3>
        <Both zh="课表" en="Timetable" />
      </h3>
      <TimetableEditor entries={timetable} onChange={setTimetable} />
      <p>
        <button type="button" id="centre-save" onClick={() => void save()}>
          <Both zh="保存" en="Save" />
        </button>
      </p>
      <div id="centre-save-message">
        {message && 'ok' in message && (
          <span class="ok">已保存；盒子会在两节课之间应用 Saved; boxes apply it between classes</span>
        )}
        {message && 'error' in message && <ErrorBox error={message.error} />}
      </div>
    </Card>
  );
}

/** Lesson catch-up (issue 21): the minutes this centre's boxes missed of their classes, and replayed. */
function Catchup({ centre }: { centre: Centre }) {
  const stats = useLoad(
    async () =>
      (
        await api<{
          centres: { centreId: string; classes: number; missedMinutes: number; caughtUpMinutes: number }[];
        }>('GET', '/catchup?days=30')
      ).centres.find((c) => c.centreId === centre.id),
    [centre.id],
  );
  const s = stats.data;
  return (
    <Card title={<Both zh="补课（近 30 天）" en="Catch-up (last 30 days)" />}>
      {stats.error !== undefined && <ErrorBox error={stats.error} />}
      <p id="catchup-stats">
        {s ? (
          <>
            <Both zh={`错过 ${s.missedMinutes} 分钟`} en={`missed ${s.missedMinutes} min`} /> ·{' '}
            <Both zh={`已补看 ${s.caughtUpMinutes} 分钟`} en={`caught up ${s.caughtUpMinutes} min`} /> ·{' '}
            <Both zh={`${s.classes} 节课`} en={`${s.classes} classes`} />
          </>
        ) : (
          <span class="muted">没有错过的课 Nothing missed</span>
        )}
      </p>
    </Card>
  );
}

const TOKEN_STATUS: Record<TokenView['status'], string> = {
  unused: '未使用 unused',
  used: '已使用 used',
  expired: '已过期 expired',
  revoked: '已撤销 revoked',
};

/** Tokens of a centre: mint, revoke, and print the label sheet of the boxes still to enrol. */
function Tokens({ centre }: { centre: Centre }) {
  const tokens = useLoad(
    async () =>
      (await api<{ tokens: TokenView[] }>('GET', `/centres/${enc(centre.id)}/enrolment-tokens`)).tokens,
    [centre.id],
  );
  const [minted, setMinted] = useState<MintedToken[] | undefined>();
  const [failure, setFailure] = useState<unknown>(undefined);
  const mint = async (event: Event) => {
    event.preventDefault();
    // Read from the form itself: what is in the fields is what is sent, however it got there.
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const ids = String(data.get('deviceIds') ?? '')
      .split(/[\s,]+/)
      .filter(Boolean);
    try {
      const answer = await api<{ tokens: MintedToken[] }>(
        'POST',
        `/centres/${enc(centre.id)}/enrolment-tokens`,
        {
          count: ids.length || Number(data.get('count')),
          expiresInSeconds: Math.round(Number(data.get('days')) * 86_400),
          ...(ids.length ? { deviceIds: ids } : {}),
          reenrol: data.get('reenrol') !== null,
        },
      );
      setMinted(answer.tokens);
      setFailure(undefined);
      await tokens.reload();
    } catch (error) {
      setFailure(error);
    }
  };
  const revoke = async (token: TokenView) => {
    try {
      await api('DELETE', `/centres/${enc(centre.id)}/enrolment-tokens/${enc(token.id)}`);
      await tokens.reload();
    } catch (error) {
      setFailure(error);
    }
  };
  const open = tokens.data?.filter((t) => t.status === 'unused') ?? [];
  return (
    <Card title={<Both zh="注册令牌" en="Enrolment tokens" />}>
      <form class="grid" id="token-form" onSubmit={(e) => void mint(e)}>
        <label for="token-count">
          <Both zh="数量" en="Count" />
        </label>
        <input id="token-count" name="count" type="number" min={1} max={500} defaultValue="1" />
        <label for="token-days">
          <Both zh="有效天数" en="Valid for days" />
        </label>
        <input id="token-days" name="days" type="number" min={0.1} max={90} step="any" defaultValue="7" />
        <label for="token-ids">
          <Both zh="设备编号（可选）" en="Device ids (optional)" />
        </label>
        <input id="token-ids" name="deviceIds" placeholder={`${centre.id}-01, ${centre.id}-02`} size={40} />
        <label for="token-reenrol">
          <Both zh="重新注册已刷机的盒子" en="Re-enrol a re-flashed box" />
        </label>
        <input id="token-reenrol" name="reenrol" type="checkbox" />
        <span />
        <button id="token-create" type="submit">
          <Both zh="生成注册令牌" en="Create enrolment tokens" />
        </button>
      </form>
      <div id="token-result">
        {failure !== undefined && <ErrorBox error={failure} />}
        {minted && (
          <>
            <p class="ok">
              已生成 {minted.length} 个令牌；每个文件只显示这一次 Created {minted.length}; each file is shown
              only now
            </p>
            {minted.map((t) => (
              <div class="minted" data-device={t.deviceId}>
                <strong>{t.deviceId}</strong>{' '}
                <a
                  download="classbox-enrol.json"
                  href={URL.createObjectURL(
                    new Blob([JSON.stringify(t.seed, null, 2)], { type: 'application/json' }),
                  )}
                >
                  下载 classbox-enrol.json Download
                </a>
                <small> 有效期至 expires {t.expiresAt}</small>
              </div>
            ))}
          </>
        )}
      </div>
      <h3>
        <Both zh="已生成" en="Issued" />{' '}
        <button type="button" id="print-labels" disabled={open.length === 0} onClick={() => window.print()}>
          <Both zh="打印标签" en="Print label sheet" />
        </button>
      </h3>
      {tokens.error !== undefined && <ErrorBox error={tokens.error} />}
      <table id="token-list">
        <Head
          columns={[
            ['设备', 'Device'],
            ['状态', 'Status'],
            ['有效期至', 'Expires'],
            ['使用/撤销时间', 'Used / revoked'],
            ['', ''],
          ]}
        />
        <tbody>
          {tokens.data?.map((t) => (
            <tr data-device={t.deviceId} data-token={t.id}>
              <td>{t.deviceId}</td>
              <td>{TOKEN_STATUS[t.status]}</td>
              <td>{t.expiresAt}</td>
              <td>{t.usedAt ?? t.revokedAt ?? '—'}</td>
              <td>
                {t.status === 'unused' ? (
                  <button type="button" class="token-revoke" onClick={() => void revoke(t)}>
                    <Both zh="撤销" en="Revoke" />
                  </button>
                ) : (
                  '—'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {/* Printed alone (style.css @media print): one stick-on label per box still to enrol. */}
      <div id="label-sheet" aria-hidden="true">
        {open.map((t) => (
          <div class="label">
            <div class="label-id">{t.deviceId}</div>
            <div>
              {centre.name} ({centre.id})
            </div>
            <div>{t.displayName}</div>
            <div class="label-small">请于此前注册 enrol before {t.expiresAt}</div>
          </div>
        ))}
      </div>
    </Card>
  );
}

export function CentreView({ id }: { id: string }) {
  const { data, error } = useLoad(
    () =>
      Promise.all([
        api<Centre>('GET', `/centres/${enc(id)}`),
        api<DeviceView[]>('GET', `/devices?centre=${enc(id)}`),
      ]),
    [id],
  );
  if (error !== undefined) return <ErrorBox error={error} />;
  if (!data) return <p class="muted">正在加载… Loading…</p>;
  const [centre, devices] = data;
  return (
    <>
      <p>
        <a href="#/">← 总览 Overview</a>
      </p>
      <Card
        title={
          <>
            {centre.name}{' '}
            <small>
              {centre.id} · {centre.region}
            </small>
          </>
        }
      >
        <CentreDevices devices={devices} />
      </Card>
      <RoomSettings centre={centre} />
      <Catchup centre={centre} />
      <Tokens centre={centre} />
    </>
  );
}

export function NewCentreView() {
  const [form, setForm] = useState({ id: '', name: '', region: '', janusUrl: '', room: '' });
  const [failure, setFailure] = useState<unknown>(undefined);
  const create = async (event: Event) => {
    event.preventDefault();
    try {
      await api('POST', '/centres', {
        id: form.id.trim(),
        name: form.name.trim(),
        region: form.region.trim(),
        room: { janusUrl: form.janusUrl.trim(), room: Number(form.room) },
      });
      location.hash = `#/centre/${enc(form.id.trim())}`;
    } catch (error) {
      setFailure(error);
    }
  };
  const fields: [keyof typeof form, string, string, string][] = [
    ['id', '编号', 'Id', 'jx-ruijin'],
    ['name', '名称', 'Name', '瑞金教学点'],
    ['region', '地区', 'Region', '江西'],
    ['janusUrl', 'Janus 地址', 'Janus URL', 'wss://janus.example.cn'],
    ['room', '房间号', 'Room', '1234'],
  ];
  return (
    <Card title={<Both zh="新建教学点" en="New centre" />}>
      <form class="grid" id="centre-form" onSubmit={(e) => void create(e)}>
        {fields.flatMap(([name, zh, en, placeholder]) => [
          <label for={`new-${name}`}>
            <Both zh={zh} en={en} />
          </label>,
          <input
            id={`new-${name}`}
            name={name}
            placeholder={placeholder}
            required
            value={form[name]}
            onInput={(e) => setForm({ ...form, [name]: e.currentTarget.value })}
          />,
        ])}
        <span />
        <button type="submit">
          <Both zh="创建" en="Create" />
        </button>
      </form>
      {failure !== undefined && <ErrorBox error={failure} />}
    </Card>
  );
}
