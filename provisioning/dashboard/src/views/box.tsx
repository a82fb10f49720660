import { useMemo, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import type { DeviceUpdateView, DeviceView } from '../../../protocol/admin-views.schema.js';
import type { DeviceHistory } from '../../../protocol/history-api.schema.js';
import { api, enc } from '../api.js';
import { cst, Plot, stepped } from '../chart.js';
import { useLoad } from '../hooks.js';
import { ago, Both, Card, ErrorBox, Field, Head } from '../ui.js';
import { ActionButtons } from './remote.js';

const fmt = (v: number | null | undefined, unit: string) =>
  v === null || v === undefined ? '—' : `${v} ${unit}`;
const last = (values: (number | null)[]) => [...values].reverse().find((v) => v !== null) ?? null;
const max = (values: (number | null)[]) =>
  values.reduce<number | null>((m, v) => (v !== null && (m === null || v > m) ? v : m), null);

function Plots({ history }: { history: DeviceHistory }) {
  const time = { tzDate: cst };
  const link = useMemo(
    () => ({
      options: {
        ...time,
        series: [
          {},
          { label: '上行 uplink kbit/s', scale: 'kbps', stroke: '#1a73e8', width: 2, spanGaps: false },
          { label: '往返 RTT ms', scale: 'ms', stroke: '#e37400', width: 1 },
          { label: '丢包 loss %', scale: '%', stroke: '#b3261e', width: 1 },
        ],
        axes: [
          {},
          { scale: 'kbps', label: 'kbit/s' },
          { scale: 'ms', side: 1, label: 'ms', grid: { show: false } },
        ],
      } satisfies Omit<uPlot.Options, 'width' | 'height'>,
      data: [history.t, history.uplinkKbps, history.rttMs, history.lossPercent] as uPlot.AlignedData,
    }),
    [history],
  );
  const temperature = useMemo(
    () => ({
      options: {
        ...time,
        series: [
          {},
          { label: '平均 mean °C', stroke: '#c5221f', width: 2 },
          { label: '最高 max °C', stroke: '#f28b82', width: 1, dash: [4, 4] },
        ],
        axes: [{}, { label: '°C' }],
      } satisfies Omit<uPlot.Options, 'width' | 'height'>,
      data: [history.t, history.temperatureC, history.temperatureMaxC] as uPlot.AlignedData,
    }),
    [history],
  );
  const classes = useMemo(
    () => ({
      options: {
        ...time,
        scales: { y: { range: [0, 1] as [number, number] } },
        series: [
          {},
          { label: '上课 in class', stroke: '#174ea6', fill: 'rgba(23,78,166,0.25)', paths: stepped },
          { label: '仅声音 audio only', stroke: '#9a6700', fill: 'rgba(154,103,0,0.2)', paths: stepped },
        ],
        axes: [{}, { values: (_u: uPlot, ticks: number[]) => ticks.map((t) => `${Math.round(t * 100)}%`) }],
      } satisfies Omit<uPlot.Options, 'width' | 'height'>,
      data: [history.t, history.inClass, history.audioOnly] as uPlot.AlignedData,
    }),
    [history],
  );
  const span = history.range === '24h' ? '24 小时 h' : '7 天 days';
  return (
    <>
      <Plot
        id="plot-link"
        title={`链路质量 Link quality · ${span}`}
        summary={`最近上行 last uplink ${fmt(last(history.uplinkKbps), 'kbit/s')} · RTT ${fmt(last(history.rttMs), 'ms')} · 丢包 loss ${fmt(last(history.lossPercent), '%')}`}
        options={link.options}
        data={link.data}
      />
      <Plot
        id="plot-temperature"
        title={`温度 CPU temperature · ${span}`}
        summary={`最高 max ${fmt(max(history.temperatureMaxC), '°C')} · 最近 last ${fmt(last(history.temperatureC), '°C')}`}
        options={temperature.options}
        data={temperature.data}
      />
      <Plot
        id="plot-classes"
        title={`上课时间线 Class sessions · ${span}`}
        summary={`${history.sessions.length} 节课 sessions`}
        options={classes.options}
        data={classes.data}
      />
      <table id="sessions">
        <caption>
          <Both zh="课堂" en="Class sessions" />
        </caption>
        <Head
          columns={[
            ['开始', 'Start'],
            ['结束', 'End'],
            ['时长', 'Length'],
          ]}
        />
        <tbody>
          {history.sessions.map((s) => (
            <tr>
              <td>{new Date(s.start).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai' })}</td>
              <td>{new Date(s.end).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai' })}</td>
              <td>{Math.round((Date.parse(s.end) - Date.parse(s.start)) / 60_000)} 分钟 min</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function ChannelForm({ deviceId, channel, onSaved }: { deviceId: string; channel: string; onSaved(): void }) {
  const [value, setValue] = useState(channel);
  const [failure, setFailure] = useState<unknown>(undefined);
  return (
    <form
      class="inline"
      id="box-channel"
      onSubmit={async (event) => {
        event.preventDefault();
        try {
          await api<DeviceUpdateView>('PUT', `/devices/${enc(deviceId)}/channel`, { channel: value.trim() });
          setFailure(undefined);
          onSaved();
        } catch (error) {
          setFailure(error);
        }
      }}
    >
      <Field
        id="box-channel-name"
        zh="更新频道"
        en="Release channel"
        value={value}
        onValue={setValue}
        required
      />
      <button type="submit">
        <Both zh="更改" en="Change" />
      </button>
      {failure !== undefined && <ErrorBox error={failure} />}
    </form>
  );
}

/** One box: its state, its plots over 24 h or 7 d, its update, and remote eyes on it. */
export function BoxView({ id }: { id: string }) {
  const [range, setRange] = useState<'24h' | '7d'>('24h');
  const device = useLoad(
    () =>
      Promise.all([
        api<DeviceView>('GET', `/devices/${enc(id)}`),
        api<DeviceUpdateView>('GET', `/devices/${enc(id)}/update`),
      ]),
    [id],
  );
  const history = useLoad(
    () => api<DeviceHistory>('GET', `/devices/${enc(id)}/history?range=${range}`),
    [id, range],
  );
  if (device.error !== undefined) return <ErrorBox error={device.error} />;
  if (!device.data) return <p class="muted">正在加载… Loading…</p>;
  const [d, update] = device.data;
  return (
    <>
      <p>
        <a href="#/">← 总览 Overview</a> ·{' '}
        <a href={`#/centre/${enc(d.centreId)}`}>教学点 Centre {d.centreId}</a>
      </p>
      <Card
        id="box"
        data-device={d.id}
        title={
          <>
            {d.displayName} <small>{d.id}</small>
          </>
        }
      >
        <dl class="facts">
          <dt>状态 Status</dt>
          <dd>
            {d.online ? (
              <span class="pill status-online">在线 online</span>
            ) : (
              <span class="pill status-offline">离线 offline</span>
            )}{' '}
            {d.inClass && <span class="pill in-class">上课中 in class</span>} {d.state ?? '—'} ·{' '}
            {ago(d.lastSeenAt)}
          </dd>
          <dt>健康 Health</dt>
          <dd class={d.problems.length ? 'problems' : 'ok'}>
            {d.problems.length ? d.problems.join(', ') : '正常 all ok'}
            {d.errorCode && ` · 错误 error: ${d.errorCode}`}
          </dd>
          <dt>版本 Version</dt>
          <dd>
            {d.version ?? '—'} · {d.vitals?.board ?? ''} · 频道 channel {update.channel} · 目标 target{' '}
            {update.targetVersion ?? '—'}
            {update.report &&
              ` · ${update.report.state} ${update.report.version}${update.report.code ? ` (${update.report.code})` : ''}`}
          </dd>
        </dl>
        <ChannelForm deviceId={d.id} channel={update.channel} onSaved={() => void device.reload()} />
        <h3>
          <Both zh="远程查看" en="Remote eyes" />
        </h3>
        <ActionButtons deviceId={d.id} name={d.displayName} />
      </Card>
      <Card title={<Both zh="历史" en="History" />} id="history">
        <div role="radiogroup" aria-label="时间范围 Range" class="range">
          {(['24h', '7d'] as const).map((r) => (
            <button
              type="button"
              role="radio"
              aria-checked={range === r}
              data-range={r}
              onClick={() => setRange(r)}
            >
              {r === '24h' ? '24 小时 24 h' : '7 天 7 days'}
            </button>
          ))}
        </div>
        {history.error !== undefined && <ErrorBox error={history.error} />}
        {history.data && history.data.range === range && <Plots history={history.data} />}
      </Card>
    </>
  );
}
