import { useContext, useEffect, useState } from 'preact/hooks';
import type { ActionView } from '../../../protocol/admin-views.schema.js';
import { api, enc, image } from '../api.js';
import { ShellContext } from '../shell.js';
import { ACTIONS, Both, ErrorBox } from '../ui.js';

const POLL_MS = 2000;
const GIVE_UP_AFTER = 90;

/**
 * A remote action's answer arrives with the box's next heartbeat (≤ 30 s): follow the action until
 * it is done, then show what it brought (a picture).
 */
function SnapshotPanel({
  deviceId,
  name,
  actionId,
  kind,
}: {
  deviceId: string;
  name: string;
  actionId: string;
  kind: 'snapshot' | 'screenshot';
}) {
  const shell = useContext(ShellContext);
  const [state, setState] = useState<{ url?: string; takenAt?: string; error?: unknown }>({});
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
          setState({ error: new Error(action.detail ?? 'the box could not take a picture') });
          return;
        }
        if (action?.status === 'done') {
          const picture = await image(`${path}/${kind}`);
          if (!stopped) setState(picture);
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
  useEffect(() => () => state.url && URL.revokeObjectURL(state.url), [state.url]);
  return (
    <section class="card">
      <h2>
        {name} {kind === 'snapshot' ? '拍照' : '屏幕'}{' '}
        <small>
          {kind} of {deviceId}
        </small>
      </h2>
      {state.error !== undefined ? (
        <ErrorBox error={state.error} />
      ) : state.url ? (
        <>
          <img class={kind} src={state.url} alt={`${kind} ${deviceId}`} />
          <small>{state.takenAt}</small>
        </>
      ) : (
        <p class="muted">等待盒子回应… Waiting for the box…</p>
      )}
      <button type="button" onClick={() => shell.showPanel(null)}>
        关闭 Close
      </button>
    </section>
  );
}

/** The remote action buttons of a box; a snapshot opens the panel that waits for the picture. */
export function ActionButtons({
  deviceId,
  name,
  onDone,
}: {
  deviceId: string;
  name: string;
  onDone?(): void;
}) {
  const shell = useContext(ShellContext);
  const [result, setResult] = useState<{ ok: true } | { error: unknown } | undefined>(undefined);
  const request = async (kind: string) => {
    try {
      const action = await api<ActionView>('POST', `/devices/${enc(deviceId)}/actions`, { kind });
      setResult({ ok: true });
      if (kind === 'snapshot' || kind === 'screenshot')
        shell.showPanel(
          <SnapshotPanel key={action.id} deviceId={deviceId} name={name} actionId={action.id} kind={kind} />,
        );
      onDone?.();
    } catch (error) {
      setResult({ error });
    }
  };
  return (
    <>
      {Object.entries(ACTIONS).map(([kind, label]) => (
        <button key={kind} type="button" data-action={kind} onClick={() => void request(kind)}>
          {label}
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
