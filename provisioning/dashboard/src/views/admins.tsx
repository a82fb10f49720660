import { useState } from 'preact/hooks';
import type { AdminView, AuditView } from '../../../protocol/admin-views.schema.js';
import { api, enc } from '../api.js';
import { useLoad } from '../hooks.js';
import { Both, Card, ErrorBox, Field, Head } from '../ui.js';

const ADMIN_STATUS: Record<AdminView['status'], string> = {
  active: '有效 active',
  expired: '已过期 expired',
  revoked: '已撤销 revoked',
};

/** Admin credentials (issue 13: they expire and can be revoked) and the audit log of every admin action. */
export function AdminsView() {
  const admins = useLoad(() => api<AdminView[]>('GET', '/admins'), []);
  const audit = useLoad(
    async () => (await api<{ entries: AuditView[] }>('GET', '/audit?limit=200')).entries,
    [],
  );
  const [form, setForm] = useState({ name: '', days: '90' });
  const [created, setCreated] = useState<{ name: string; token: string } | undefined>();
  const [failure, setFailure] = useState<unknown>(undefined);
  const create = async (event: Event) => {
    event.preventDefault();
    try {
      const days = Number(form.days);
      setCreated(
        await api<{ name: string; token: string }>('POST', '/admins', {
          name: form.name.trim(),
          ...(days > 0 ? { expiresInSeconds: Math.round(days * 86_400) } : {}),
        }),
      );
      setFailure(undefined);
      await Promise.all([admins.reload(), audit.reload()]);
    } catch (error) {
      setFailure(error);
    }
  };
  const revoke = async (name: string) => {
    try {
      await api('DELETE', `/admins/${enc(name)}`);
      await Promise.all([admins.reload(), audit.reload()]);
    } catch (error) {
      setFailure(error);
    }
  };
  return (
    <>
      <Card title={<Both zh="管理员凭证" en="Admin credentials" />} id="admins">
        {admins.error !== undefined && <ErrorBox error={admins.error} />}
        <table id="admin-list">
          <Head
            columns={[
              ['名称', 'Name'],
              ['状态', 'Status'],
              ['创建', 'Created'],
              ['到期', 'Expires'],
              ['', ''],
            ]}
          />
          <tbody>
            {admins.data?.map((a) => (
              <tr data-admin={a.name}>
                <td>{a.name}</td>
                <td class={a.status === 'active' ? 'ok' : 'muted'}>{ADMIN_STATUS[a.status]}</td>
                <td>{a.createdAt}</td>
                <td>{a.expiresAt ?? '永不 never'}</td>
                <td>
                  {a.status === 'active' && (
                    <button type="button" class="admin-revoke" onClick={() => void revoke(a.name)}>
                      <Both zh="撤销" en="Revoke" />
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <h3>
          <Both zh="新建凭证" en="New credential" />
        </h3>
        <form class="grid" id="admin-form" onSubmit={(e) => void create(e)}>
          <Field
            id="admin-name"
            zh="名称"
            en="Name"
            required
            placeholder="flash-tool"
            value={form.name}
            onValue={(name) => setForm({ ...form, name })}
          />
          <Field
            id="admin-days"
            zh="有效天数（0 为永久）"
            en="Valid for days (0: until revoked)"
            type="number"
            min={0}
            step="any"
            value={form.days}
            onValue={(days) => setForm({ ...form, days })}
          />
          <span />
          <button type="submit" id="admin-create">
            <Both zh="生成" en="Create" />
          </button>
        </form>
        {created && (
          <p class="ok" id="admin-created">
            凭证只显示这一次 Shown only now: <code>{created.token}</code>
          </p>
        )}
        {failure !== undefined && <ErrorBox error={failure} />}
      </Card>
      <Card title={<Both zh="审计日志" en="Audit log" />} id="audit">
        {audit.error !== undefined && <ErrorBox error={audit.error} />}
        <table id="audit-log">
          <Head
            columns={[
              ['时间', 'At'],
              ['操作者', 'Actor'],
              ['操作', 'Action'],
              ['对象', 'Target'],
              ['结果', 'Outcome'],
              ['来源', 'Client'],
            ]}
          />
          <tbody>
            {audit.data?.map((e) => (
              <tr>
                <td>{e.at}</td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td>{e.target}</td>
                <td class={/^[23]/.test(e.outcome) || e.outcome === 'ok' ? 'ok' : 'problems'}>{e.outcome}</td>
                <td>{e.client ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </>
  );
}
