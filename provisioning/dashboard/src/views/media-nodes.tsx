import { useEffect } from 'preact/hooks';
import type { MediaNodeView } from '../../../protocol/admin-views.schema.js';
import { api } from '../api.js';
import { useLoad } from '../hooks.js';
import { Both, Card, ErrorBox, Head } from '../ui.js';

const STATUS: Record<MediaNodeView['status'], string> = {
  up: '正常 up',
  down: '故障 down',
  unknown: '未检查 not checked',
};

/**
 * The media nodes (issue 19): health and load as the fleet's last check saw them, refreshed every 5 s.
 * Registering and removing are the CLI's and the API's (`classbox fleet node add|remove`).
 */
export function MediaNodesView() {
  const nodes = useLoad(() => api<MediaNodeView[]>('GET', '/media-nodes'), []);
  useEffect(() => {
    const timer = setInterval(() => void nodes.reload(), 5000);
    return () => clearInterval(timer);
  }, [nodes.reload]);
  return (
    <Card title={<Both zh="媒体服务器" en="Media nodes" />} id="media-nodes">
      {nodes.error !== undefined && <ErrorBox error={nodes.error} />}
      <table id="media-node-list">
        <Head
          columns={[
            ['名称', 'Node'],
            ['状态', 'Status'],
            ['地区', 'Region'],
            ['课堂/容量', 'Classes / capacity'],
            ['会话', 'Sessions'],
            ['参与者', 'Participants'],
            ['地址', 'URL'],
            ['检查时间', 'Checked'],
          ]}
        />
        <tbody>
          {nodes.data?.map((n) => (
            <tr data-node={n.id}>
              <td>{n.id}</td>
              <td
                class={n.status === 'up' ? 'ok' : n.status === 'down' ? 'problems' : 'muted'}
                title={n.error ?? ''}
              >
                {STATUS[n.status]}
              </td>
              <td>{n.region}</td>
              <td>
                {n.classes} / {n.capacity}
              </td>
              <td>{n.sessions ?? '–'}</td>
              <td>{n.participants ?? '–'}</td>
              <td>{n.wsUrl}</td>
              <td>{n.checkedAt ?? '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
