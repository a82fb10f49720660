import { useMemo, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import type { FleetHistory } from '../../../protocol/history-api.schema.js';
import { api, enc } from '../api.js';
import { bars, cst, Plot } from '../chart.js';
import { useLoad } from '../hooks.js';
import { Both, Card, Choice, ErrorBox } from '../ui.js';

const PALETTE = [
  '#1a73e8',
  '#e37400',
  '#188038',
  '#a142f4',
  '#c5221f',
  '#007b83',
  '#9a6700',
  '#e52592',
  '#5f6368',
  '#174ea6',
];

/** Days as x values (noon CST of each day, seconds) so uPlot's time axis labels them by date. */
const dayTimes = (labels: string[]) => labels.map((d) => Date.parse(`${d}T12:00:00+08:00`) / 1000);

function Charts({ h }: { h: FleetHistory }) {
  const online = useMemo(
    () => ({
      options: {
        tzDate: cst,
        series: [
          {},
          { label: '在线盒子 boxes online', stroke: '#188038', fill: 'rgba(24,128,56,0.15)', width: 2 },
        ],
        axes: [{}, { label: '盒子 boxes' }],
      } satisfies Omit<uPlot.Options, 'width' | 'height'>,
      data: [h.online.t, h.online.boxes] as uPlot.AlignedData,
    }),
    [h],
  );
  const classes = useMemo(
    () => ({
      options: {
        tzDate: cst,
        series: [
          {},
          ...h.classHours.map((g, i) => ({
            label: g.name,
            stroke: PALETTE[i % PALETTE.length],
            width: 2,
            points: { show: true },
          })),
        ],
        axes: [{}, { label: '小时 hours' }],
      } satisfies Omit<uPlot.Options, 'width' | 'height'>,
      data: [dayTimes(h.dayLabels), ...h.classHours.map((g) => g.hours)] as uPlot.AlignedData,
    }),
    [h],
  );
  const failures = useMemo(
    () => ({
      options: {
        tzDate: cst,
        series: [
          {},
          { label: '更新失败 update failures', stroke: '#b3261e', fill: 'rgba(179,38,30,0.5)', paths: bars },
        ],
        axes: [{}, { label: '盒子 boxes' }],
      } satisfies Omit<uPlot.Options, 'width' | 'height'>,
      data: [dayTimes(h.dayLabels), h.updateFailures] as uPlot.AlignedData,
    }),
    [h],
  );
  const peak = Math.max(0, ...h.online.boxes);
  return (
    <>
      <Plot
        id="plot-online"
        title="在线盒子 Boxes online (每小时 per hour)"
        summary={`最多 peak ${peak}`}
        options={online.options}
        data={online.data}
      />
      <Plot
        id="plot-class-hours"
        title={`每天上课小时数 Class hours per day · ${h.region ? `${h.region} 各教学点 by centre` : '各地区 by region'}`}
        summary={h.classHours
          .map((g) => `${g.name} ${g.hours.reduce((a, b) => a + b, 0).toFixed(1)} h`)
          .join(' · ')}
        options={classes.options}
        data={classes.data}
      />
      <Plot
        id="plot-update-failures"
        title="更新失败 Update failures (每天 per day)"
        summary={h.dayLabels.map((d, i) => `${d}: ${h.updateFailures[i]}`).join(' · ')}
        options={failures.options}
        data={failures.data}
      />
      <table id="class-hours">
        <caption>
          <Both zh="每天上课小时数" en="Class hours per day" />
        </caption>
        <thead>
          <tr>
            <th scope="col">{h.region ? '教学点 Centre' : '地区 Region'}</th>
            {h.dayLabels.map((d) => (
              <th scope="col">{d.slice(5)}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {h.classHours.map((g) => (
            <tr data-group={g.id}>
              <th scope="row">
                {h.region ? (
                  <a href={`#/centre/${enc(g.id)}`}>{g.name}</a>
                ) : (
                  <a href={`#/fleet?region=${enc(g.id)}`}>{g.name}</a>
                )}
              </th>
              {g.hours.map((v) => (
                <td class={v === 0 ? 'muted' : undefined}>{v}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Fleet-wide trends: boxes online, class hours per day by region (or by centre of one region), update failures. */
export function FleetView({ region }: { region?: string }) {
  const [days, setDays] = useState(7);
  const history = useLoad(
    () => api<FleetHistory>('GET', `/history/fleet?days=${days}${region ? `&region=${enc(region)}` : ''}`),
    [days, region],
  );
  return (
    <Card
      id="fleet-trends"
      title={
        <>
          <Both zh="全网趋势" en="Fleet trends" />
          {region && <small> · {region}</small>}
        </>
      }
    >
      {region && (
        <p>
          <a href="#/fleet">← 全部地区 All regions</a>
        </p>
      )}
      <Choice
        id="trend-days"
        zh="天数"
        en="Days"
        value={String(days)}
        options={['7', '30', '90', '180'].map((d) => [d, d] as const)}
        onValue={(d) => setDays(Number(d))}
      />
      {history.error !== undefined && <ErrorBox error={history.error} />}
      {history.data && <Charts h={history.data} />}
    </Card>
  );
}
