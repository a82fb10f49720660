import { useEffect, useState } from 'preact/hooks';
import type { ReleaseView, RolloutProgress, RolloutView } from '../../../protocol/admin-views.schema.js';
import { api, enc } from '../api.js';
import { useLoad } from '../hooks.js';
import { Both, Card, ErrorBox, Field } from '../ui.js';

const PROGRESS_MS = 5000;

const SEGMENTS: [key: 'healthy' | 'installed' | 'downloading' | 'rolledBack', zh: string, en: string][] = [
  ['healthy', '运行正常', 'healthy'],
  ['installed', '已安装', 'installed'],
  ['downloading', '下载安装中', 'downloading'],
  ['rolledBack', '失败/回滚', 'rolled back'],
];

const STATE: Record<RolloutView['state'], string> = {
  active: '进行中 active',
  paused: '已暂停 paused',
  aborted: '已中止 aborted',
};

/**
 * One bar over the offered boxes: healthy, installed (not yet healthy), on the way, rolled back,
 * and the rest still waiting. The figures are written beside it for the keyboard and screen readers.
 */
function ProgressBar({ p }: { p: RolloutProgress }) {
  const healthyOnly = p.healthy;
  const installedOnly = Math.max(0, p.installed - p.healthy);
  const parts = {
    healthy: healthyOnly,
    installed: installedOnly,
    downloading: p.downloading,
    rolledBack: p.rolledBack,
  };
  const total = Math.max(1, p.offered);
  return (
    <div class="rollout-progress" data-rollout={p.rollout.id}>
      <div class="bar" role="img" aria-label={`${p.healthy}/${p.offered}`}>
        {SEGMENTS.map(([key]) => (
          <span class={`seg seg-${key}`} style={{ width: `${(100 * parts[key]) / total}%` }} />
        ))}
      </div>
      <div class="legend">
        <span>
          目标 target: <b class="n-boxes">{p.boxes}</b>
        </span>
        <span>
          已推送 offered: <b class="n-offered">{p.offered}</b>
        </span>
        {SEGMENTS.map(([key, zh, en]) => (
          <span>
            <i class={`dot seg-${key}`} /> {zh} {en}: <b class={`n-${key}`}>{p[key]}</b>
          </span>
        ))}
      </div>
    </div>
  );
}

function Rollout({ rollout, onChanged }: { rollout: RolloutView; onChanged(): void }) {
  const [progress, setProgress] = useState<RolloutProgress | undefined>();
  const [failure, setFailure] = useState<unknown>(undefined);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const p = await api<RolloutProgress>('GET', `/rollouts/${enc(rollout.id)}/progress`);
        if (!stopped) setProgress(p);
      } catch (error) {
        if (!stopped) setFailure(error);
      }
      if (!stopped) timer = setTimeout(() => void load(), PROGRESS_MS);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [rollout.id, rollout.state]);
  const act = async (action: 'pause' | 'resume' | 'abort') => {
    try {
      await api('POST', `/rollouts/${enc(rollout.id)}/${action}`);
      setFailure(undefined);
      onChanged();
    } catch (error) {
      setFailure(error);
    }
  };
  return (
    <li class={`rollout state-${rollout.state}`} data-rollout={rollout.id}>
      <div>
        <strong>
          {rollout.target.kind === 'channel'
            ? '频道 channel'
            : rollout.target.kind === 'centre'
              ? '教学点 centre'
              : '盒子 box'}{' '}
          {rollout.target.id}
        </strong>{' '}
        · {rollout.percent}% · <span class="rollout-state">{STATE[rollout.state]}</span> ·{' '}
        <small>{rollout.createdAt}</small>{' '}
        {rollout.state === 'active' && (
          <button type="button" class="rollout-pause" onClick={() => void act('pause')}>
            <Both zh="暂停" en="Pause" />
          </button>
        )}
        {rollout.state === 'paused' && (
          <button type="button" class="rollout-resume" onClick={() => void act('resume')}>
            <Both zh="继续" en="Resume" />
          </button>
        )}
        {rollout.state !== 'aborted' && (
          <button type="button" class="rollout-abort" onClick={() => void act('abort')}>
            <Both zh="中止" en="Abort" />
          </button>
        )}
      </div>
      {progress && <ProgressBar p={progress} />}
      {failure !== undefined && <ErrorBox error={failure} />}
    </li>
  );
}

function StartRollout({ release, onStarted }: { release: ReleaseView; onStarted(): void }) {
  const [form, setForm] = useState({ kind: 'channel', id: 'pilot', percent: '10' });
  const [failure, setFailure] = useState<unknown>(undefined);
  const start = async (event: Event) => {
    event.preventDefault();
    try {
      await api('POST', `/releases/${enc(release.version)}/rollouts`, {
        [form.kind]: form.id.trim(),
        percent: Number(form.percent),
      });
      setFailure(undefined);
      onStarted();
    } catch (error) {
      setFailure(error);
    }
  };
  const prefix = `rollout-${release.version.replace(/[^a-z0-9]/gi, '-')}`;
  return (
    <form class="inline rollout-form" data-version={release.version} onSubmit={(e) => void start(e)}>
      <label for={`${prefix}-kind`}>
        <Both zh="对象" en="Target" />
      </label>
      <select
        id={`${prefix}-kind`}
        name="kind"
        value={form.kind}
        onChange={(e) => setForm({ ...form, kind: e.currentTarget.value })}
      >
        <option value="channel">频道 channel</option>
        <option value="centre">教学点 centre</option>
        <option value="device">盒子 box</option>
      </select>
      <input
        id={`${prefix}-id`}
        name="id"
        aria-label="对象编号 Target id"
        required
        value={form.id}
        onInput={(e) => setForm({ ...form, id: e.currentTarget.value })}
      />
      <Field
        id={`${prefix}-percent`}
        zh="比例 %"
        en="Share"
        name="percent"
        type="number"
        min={1}
        max={100}
        value={form.percent}
        onValue={(percent) => setForm({ ...form, percent })}
      />
      <button type="submit" class="rollout-start">
        <Both zh="开始推送" en="Start rollout" />
      </button>
      {failure !== undefined && <ErrorBox error={failure} />}
    </form>
  );
}

function ChannelChange() {
  const [form, setForm] = useState({ device: '', channel: 'pilot' });
  const [result, setResult] = useState<{ ok: string } | { error: unknown } | undefined>();
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      await api('PUT', `/devices/${enc(form.device.trim())}/channel`, { channel: form.channel.trim() });
      setResult({ ok: `${form.device.trim()} → ${form.channel.trim()}` });
    } catch (error) {
      setResult({ error });
    }
  };
  return (
    <Card title={<Both zh="更改盒子的频道" en="Change a box's channel" />} id="channel-change">
      <form class="inline" onSubmit={(e) => void submit(e)}>
        <Field
          id="channel-device"
          zh="盒子"
          en="Box"
          required
          placeholder="jx-ruijin-01"
          value={form.device}
          onValue={(device) => setForm({ ...form, device })}
        />
        <Field
          id="channel-name"
          zh="频道"
          en="Channel"
          required
          value={form.channel}
          onValue={(channel) => setForm({ ...form, channel })}
        />
        <button type="submit" id="channel-save">
          <Both zh="保存" en="Save" />
        </button>
      </form>
      {result && 'ok' in result && <p class="ok">已更改 Changed: {result.ok}</p>}
      {result && 'error' in result && <ErrorBox error={result.error} />}
    </Card>
  );
}

export function ReleasesView() {
  const releases = useLoad(() => api<ReleaseView[]>('GET', '/releases'), []);
  return (
    <>
      <Card title={<Both zh="版本发布" en="Releases" />} id="releases">
        <p class="muted">
          用 classbox release build / sign / upload 上传版本 · releases are registered with `classbox release
          …`
        </p>
        {releases.error !== undefined && <ErrorBox error={releases.error} />}
        {releases.data?.length === 0 && <p class="muted">还没有版本 No releases yet</p>}
        {releases.data?.map((release) => (
          <section class="release" data-version={release.version}>
            <h3>
              {release.version}{' '}
              <small>
                {release.arch} · {(release.size / 1e6).toFixed(1)} MB · {release.status} · key {release.keyId}{' '}
                · {release.createdAt}
              </small>
            </h3>
            {release.status === 'ready' ? (
              <StartRollout release={release} onStarted={() => void releases.reload()} />
            ) : (
              <p class="muted">等待上传安装包 Waiting for its payload</p>
            )}
            <ul class="rollouts">
              {release.rollouts.map((r) => (
                <Rollout key={r.id} rollout={r} onChanged={() => void releases.reload()} />
              ))}
            </ul>
          </section>
        ))}
      </Card>
      <ChannelChange />
    </>
  );
}
