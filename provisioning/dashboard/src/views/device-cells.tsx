import type { DeviceView } from '../../../protocol/admin-views.schema.js';
import { enc } from '../api.js';

/** The cells a box has in every list of boxes (the overview and a centre's page). */

export function BoxCell({ device }: { device: Pick<DeviceView, 'id' | 'displayName'> }) {
  return (
    <td>
      <a class="box-link" href={`#/box/${enc(device.id)}`}>
        <strong>{device.displayName}</strong>
      </a>
      <br />
      <small>{device.id}</small>
    </td>
  );
}

export function StatusCell({ device }: { device: DeviceView }) {
  return (
    <td>
      {device.online ? (
        <span class="pill status-online">在线 online</span>
      ) : (
        <span class="pill status-offline">离线 offline</span>
      )}{' '}
      {device.inClass && <span class="pill in-class">上课中 in class</span>}
      {device.vitals?.audioOnly && <span class="pill warn">仅声音 audio only</span>}
    </td>
  );
}

export function HealthCell({ device }: { device: DeviceView }) {
  return (
    <td class={device.problems.length || device.errorCode ? 'problems' : 'ok'}>
      {Object.keys(device.health).length === 0 ? (
        <span class="muted">未知 unknown</span>
      ) : device.problems.length ? (
        device.problems.join(', ')
      ) : (
        '正常 all ok'
      )}
      {device.errorCode && <div class="problems">错误 error: {device.errorCode}</div>}
    </td>
  );
}

export function VersionCell({ device }: { device: DeviceView }) {
  const failed = device.update?.state === 'failed' || device.update?.state === 'rolled-back';
  return (
    <td>
      {device.version ?? '—'}
      {device.vitals?.board && <div class="muted board">{device.vitals.board}</div>}
      {failed && (
        <div class="problems update-failed">
          更新失败 update {device.update!.state} {device.update!.version}
          {device.update!.code ? ` (${device.update!.code})` : ''}
        </div>
      )}
    </td>
  );
}
