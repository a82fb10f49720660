import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { Overview, OverviewRow } from '../../../protocol/overview-api.schema.js';
import { ApiError, enc, refresh } from '../api.js';
import { ShellContext } from '../shell.js';
import { ago, Both, Card, Choice, ErrorBox, Head } from '../ui.js';
import { BoxCell, HealthCell, StatusCell, VersionCell } from './device-cells.js';
import { ActionButtons, ROW_ACTIONS } from './remote.js';

const REFRESH_MS = 10_000;

const STATUSES: [string, string][] = [
  ['', '全部 All'],
  ['offline', '离线 Offline'],
  ['online', '在线 Online'],
  ['in-class', '上课中 In class'],
  ['problem', '有故障 Problem'],
  ['update-failed', '更新失败 Update failed'],
];

const COLUMNS: [sort: string | null, zh: string, en: string][] = [
  ['box', '盒子', 'Box'],
  ['centre', '教学点', 'Centre'],
  ['status', '状态', 'Status'],
  [null, '健康', 'Health'],
  ['version', '版本', 'Version'],
  ['last-seen', '最后在线', 'Last seen'],
  [null, '远程操作', 'Remote actions'],
];

/** The overview's search, filters, sort and page live in the URL: back/forward and links keep them. */
function setQuery(query: URLSearchParams, changes: Record<string, string | undefined>, keepPage = false) {
  const next = new URLSearchParams(query);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === '') next.delete(key);
    else next.set(key, value);
  }
  if (!keepPage && !('page' in changes)) next.delete('page');
  location.hash = `#/?${next.toString()}`;
}

function DeviceRow({ row }: { row: OverviewRow }) {
  return (
    <tr class="device-row" data-device={row.id}>
      <BoxCell device={row} />
      <td>
        <a class="centre-link" href={`#/centre/${enc(row.centreId)}`}>
          {row.centreName}
        </a>
        <br />
        <small>{row.region}</small>
      </td>
      <StatusCell device={row} />
      <HealthCell device={row} />
      <VersionCell device={row} />
      <td>
        {row.online ? <span class="muted">刚刚 just now</span> : ago(row.lastSeenAt)}
        {row.vitals?.temperatureC !== undefined && (
          <div class="muted">{Math.round(row.vitals.temperatureC)} °C</div>
        )}
      </td>
      <td class="actions">
        <ActionButtons deviceId={row.id} name={row.displayName} kinds={ROW_ACTIONS} />
      </td>
    </tr>
  );
}

/** The whole fleet's counts by region; the grouped view (`#/regions`) goes down to centres and boxes. */
function Regions({ overview, query }: { overview: Overview; query: URLSearchParams }) {
  return (
    <Card title={<Both zh="按地区" en="By region" />} id="regions">
      <p>
        <a href="#/regions">按地区和教学点查看 By region and centre →</a>
      </p>
      <table class="regions">
        <Head
          columns={[
            ['地区', 'Region'],
            ['教学点', 'Centres'],
            ['盒子', 'Boxes'],
            ['在线', 'Online'],
            ['上课中', 'In class'],
            ['需要关注', 'Need attention'],
          ]}
        />
        <tbody>
          {overview.regions.map((r) => (
            <tr data-region={r.region} class={query.get('region') === r.region ? 'selected' : undefined}>
              <td>
                <button type="button" class="link" onClick={() => setQuery(query, { region: r.region })}>
                  {r.region}
                </button>
              </td>
              <td>{r.centres}</td>
              <td>{r.boxes}</td>
              <td>
                <meter min={0} max={Math.max(1, r.boxes)} value={r.online} title={`${r.online}/${r.boxes}`} />{' '}
                {r.online}
              </td>
              <td>{r.inClass}</td>
              <td class={r.attention ? 'problems' : undefined}>{r.attention}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}

export function OverviewView({ query }: { query: URLSearchParams }) {
  const shell = useContext(ShellContext);
  const [overview, setOverview] = useState<Overview | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [updatedAt, setUpdatedAt] = useState<Date | undefined>(undefined);
  const etag = useRef<string | undefined>(undefined);
  const search = useRef<HTMLInputElement>(null);
  const path = `/overview?${query.toString()}`;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    etag.current = undefined;
    const load = async () => {
      try {
        const fresh = await refresh<Overview>(path, etag.current);
        if (stopped) return;
        if (fresh) {
          etag.current = fresh.etag;
          setOverview(fresh.body);
        }
        setError(undefined);
        setUpdatedAt(new Date());
      } catch (e) {
        if (stopped) return;
        if (e instanceof ApiError && e.status === 401) return shell.signedOut(e);
        setError(e);
      }
      timer = setTimeout(() => void load(), REFRESH_MS);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [path]);

  // "/" jumps to the search box, as in most admin tools.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (event.key === '/' && !['INPUT', 'SELECT', 'TEXTAREA'].includes(target?.tagName ?? '')) {
        event.preventDefault();
        search.current?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const sort = query.get('sort') ?? 'centre';
  const dir = query.get('dir') ?? 'asc';
  const page = overview?.page ?? 1;
  return (
    <>
      {overview && (
        <p id="summary">
          教学点 centres: {overview.summary.centres} · 盒子 boxes: {overview.summary.boxes} · 在线 online:{' '}
          {overview.summary.online} · 上课中 in class: {overview.summary.inClass} · 需要关注 need attention:{' '}
          <a href="#/?status=offline&sort=status" class="problems">
            {overview.summary.attention}
          </a>
        </p>
      )}
      <form
        id="filters"
        class="filters"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          setQuery(query, { q: search.current?.value.trim() });
        }}
      >
        <label for="search">
          <Both zh="搜索" en="Search" />
        </label>
        <input
          id="search"
          ref={search}
          type="search"
          name="q"
          defaultValue={query.get('q') ?? ''}
          placeholder="盒子、教学点或地区 box, centre or region (/)"
          size={32}
        />
        <button type="submit" id="search-button">
          <Both zh="搜索" en="Search" />
        </button>
        <Choice
          id="filter-status"
          zh="状态"
          en="Status"
          value={query.get('status') ?? ''}
          options={STATUSES}
          onValue={(status) => setQuery(query, { status })}
        />
        <Choice
          id="filter-region"
          zh="地区"
          en="Region"
          value={query.get('region') ?? ''}
          options={[['', '全部 All'], ...(overview?.regions ?? []).map((r) => [r.region, r.region] as const)]}
          onValue={(region) => setQuery(query, { region })}
        />
        <Choice
          id="filter-version"
          zh="版本"
          en="Version"
          value={query.get('version') ?? ''}
          options={[['', '全部 All'], ...(overview?.versions ?? []).map((v) => [v, v] as const)]}
          onValue={(version) => setQuery(query, { version })}
        />
        {[...query.keys()].length > 0 && (
          <a href="#/" id="clear-filters">
            清除 Clear
          </a>
        )}
      </form>
      {error !== undefined && <ErrorBox error={error} />}
      {overview && (
        <Card>
          <p id="result-count" class="muted">
            共 {overview.total} 个盒子 · {overview.total} boxes match · 第 {overview.page}/{overview.pages} 页
            page
          </p>
          {overview.rows.length === 0 ? (
            <p class="muted">没有符合条件的盒子 No boxes match</p>
          ) : (
            <table id="devices">
              <thead>
                <tr>
                  {COLUMNS.map(([key, zh, en]) => (
                    <th
                      scope="col"
                      aria-sort={key === sort ? (dir === 'asc' ? 'ascending' : 'descending') : undefined}
                    >
                      {key ? (
                        <button
                          type="button"
                          class="link sort"
                          data-sort={key}
                          onClick={() =>
                            setQuery(query, {
                              sort: key,
                              dir: key === sort && dir === 'asc' ? 'desc' : 'asc',
                            })
                          }
                        >
                          <Both zh={zh} en={en} /> {key === sort ? (dir === 'asc' ? '▲' : '▼') : ''}
                        </button>
                      ) : (
                        <Both zh={zh} en={en} />
                      )}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {overview.rows.map((row) => (
                  <DeviceRow key={row.id} row={row} />
                ))}
              </tbody>
            </table>
          )}
          <nav class="pager" aria-label="分页 Pages">
            <button
              type="button"
              id="page-prev"
              disabled={page <= 1}
              onClick={() => setQuery(query, { page: String(page - 1) })}
            >
              ‹ 上一页 Previous
            </button>
            <span id="page-of">
              {page} / {overview.pages}
            </span>
            <button
              type="button"
              id="page-next"
              disabled={page >= overview.pages}
              onClick={() => setQuery(query, { page: String(page + 1) })}
            >
              下一页 Next ›
            </button>
          </nav>
        </Card>
      )}
      {overview && <Regions overview={overview} query={query} />}
      <footer>
        <span id="refreshed">{updatedAt && `更新于 Updated ${updatedAt.toLocaleTimeString()}`}</span>
      </footer>
    </>
  );
}
