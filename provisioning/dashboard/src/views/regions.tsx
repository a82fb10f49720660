import type { OverviewGroups } from '../../../protocol/overview-api.schema.js';
import { api, enc } from '../api.js';
import { useLoad } from '../hooks.js';
import { useState } from 'preact/hooks';
import { Card, Choice, ErrorBox, Head } from '../ui.js';

type Group = OverviewGroups['groups'][number];

/** A count that opens the overview with the boxes it counts; nothing to open when it is 0. */
function CountLink({
  n,
  scope,
  status,
  trouble,
}: {
  n: number;
  scope: string;
  status?: string;
  trouble?: boolean;
}) {
  if (n === 0) return <span class="muted">0</span>;
  return (
    <a href={`#/?${scope}${status ? `&status=${status}` : ''}`} class={trouble ? 'problems' : undefined}>
      {n}
    </a>
  );
}

function GroupRow({ group, region }: { group: Group; region?: string }) {
  // Every count opens the overview filtered to these boxes: regions → centres → boxes.
  const scope = region ? `centre=${enc(group.id)}` : `region=${enc(group.id)}`;
  return (
    <tr data-group={group.id} class={group.attention ? 'attention' : undefined}>
      <th scope="row">
        {region ? (
          <a href={`#/centre/${enc(group.id)}`}>
            {group.name} <small>{group.id}</small>
          </a>
        ) : (
          <a href={`#/regions?region=${enc(group.id)}`} class="region-link">
            {group.name}
          </a>
        )}
      </th>
      {!region && <td>{group.centres}</td>}
      <td>
        <CountLink n={group.boxes} scope={scope} />
      </td>
      <td>
        <meter
          min={0}
          max={Math.max(1, group.boxes)}
          value={group.online}
          title={`${group.online}/${group.boxes}`}
        />{' '}
        <CountLink n={group.online} scope={scope} status="online" />
      </td>
      <td>
        <CountLink n={group.inClass} scope={scope} status="in-class" />
      </td>
      <td>
        <CountLink n={group.offline} scope={scope} status="offline" trouble />
      </td>
      <td>
        <CountLink n={group.problem} scope={scope} status="problem" trouble />
      </td>
      <td>
        <CountLink n={group.updateFailed} scope={scope} status="update-failed" trouble />
      </td>
    </tr>
  );
}

/**
 * The fleet grouped by region, and a region by centre, with what each needs (issue 18). A map would
 * need map tiles from a tile server, which this fleet server neither has nor may fetch: the grouped
 * table answers the same question ("where is the trouble?") and works offline.
 */
export function RegionsView({ region }: { region?: string }) {
  const groups = useLoad(
    () => api<OverviewGroups>('GET', `/overview/groups${region ? `?region=${enc(region)}` : ''}`),
    [region],
  );
  const [order, setOrder] = useState<'name' | 'attention'>('name');
  const shown = [...(groups.data?.groups ?? [])];
  // Trouble first: the most boxes needing attention (offline, a problem, a failed update) on top.
  if (order === 'attention') shown.sort((a, b) => b.attention - a.attention);
  const total = (key: keyof Group) =>
    (groups.data?.groups ?? []).reduce((sum, g) => sum + (g[key] as number), 0);
  return (
    <Card
      id="regions-view"
      title={
        region ? (
          <>
            {region} <small>各教学点 Centres of {region}</small>
          </>
        ) : (
          <>
            按地区 <small>By region</small>
          </>
        )
      }
    >
      {region && (
        <p>
          <a href="#/regions">← 全部地区 All regions</a> ·{' '}
          <a href={`#/fleet?region=${enc(region)}`}>趋势 Trends</a>
        </p>
      )}
      <Choice
        id="groups-order"
        zh="排序"
        en="Order"
        value={order}
        options={[
          ['name', '按名称 By name'],
          ['attention', '需要关注的在前 Trouble first'],
        ]}
        onValue={(value) => setOrder(value === 'attention' ? 'attention' : 'name')}
      />
      {groups.error !== undefined && <ErrorBox error={groups.error} />}
      {groups.data && (
        <table id="groups" class="groups">
          <caption class="muted">
            {region
              ? `${groups.data.groups.length} 个教学点 centres`
              : `${groups.data.groups.length} 个地区 regions`}{' '}
            · {total('boxes')} 个盒子 boxes · 需要关注 need attention {total('attention')}
          </caption>
          <Head
            columns={[
              region ? ['教学点', 'Centre'] : ['地区', 'Region'],
              ...(region ? [] : [['教学点', 'Centres'] as [string, string]]),
              ['盒子', 'Boxes'],
              ['在线', 'Online'],
              ['上课中', 'In class'],
              ['离线', 'Offline'],
              ['有故障', 'Problem'],
              ['更新失败', 'Update failed'],
            ]}
          />
          <tbody>
            {shown.map((g) => (
              <GroupRow key={g.id} group={g} region={region} />
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}
