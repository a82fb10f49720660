/* global document, window, location, sessionStorage, fetch, setTimeout, clearTimeout, URL, Blob, Node */
// The IT dashboard of the fleet server: plain ES modules, no build step. Every value from the
// server goes into the page as text (never as HTML), so a box name can't inject markup.

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const TOKEN_KEY = 'classbox.adminToken';
const REFRESH_MS = 10_000;
const WEEKDAYS = ['', '周一 Mon', '周二 Tue', '周三 Wed', '周四 Thu', '周五 Fri', '周六 Sat', '周日 Sun'];
const ACTIONS = {
  'restart-kiosk': '重启屏幕 Restart kiosk',
  'reboot-when-idle': '空闲时重启 Reboot when idle',
  snapshot: '拍照 Snapshot',
};
let refreshTimer;

/** Build an element: h('td', {class: 'x'}, 'text', child). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'value') el.value = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const both = (zh, en) => [zh, ' ', h('small', {}, en)];

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.details = body?.error?.details;
  }
}

async function api(method, path, body) {
  const response = await fetch(`/api/v1/admin${path}`, {
    method,
    headers: {
      authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ''}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

function errorBox(error) {
  const lines = error.details?.length ? error.details : [error.message];
  return h('div', { class: 'error', role: 'alert' }, h('strong', {}, '出错了 Error: '), lines.join('; '));
}

function ago(iso) {
  if (!iso) return '从未 never';
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} 秒前 s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} 分钟前 min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} 小时前 h ago`;
  return `${Math.round(seconds / 86_400)} 天前 days ago`;
}

function loginView(previousError) {
  nav.hidden = true;
  const input = h('input', {
    id: 'login-token',
    type: 'password',
    size: 48,
    autocomplete: 'off',
    placeholder: 'cbx_admin_…',
  });
  const message = h('div', {}, previousError ? errorBox(previousError) : null);
  const form = h(
    'form',
    {
      class: 'grid',
      onsubmit: async (event) => {
        event.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, input.value.trim());
        try {
          await api('GET', '/centres');
          location.hash = '#/';
          route();
        } catch (error) {
          sessionStorage.removeItem(TOKEN_KEY);
          message.replaceChildren(errorBox(error));
        }
      },
    },
    h('label', { for: 'login-token' }, ...both('管理员凭证', 'Admin credential')),
    input,
    h('span'),
    h('button', { id: 'login-button', type: 'submit' }, ...both('登录', 'Sign in')),
  );
  main.replaceChildren(
    h(
      'section',
      { class: 'card' },
      h('h2', {}, ...both('登录', 'Sign in')),
      h(
        'p',
        { class: 'muted' },
        '凭证由 classbox fleet admin create 生成 · made by `classbox fleet admin create`',
      ),
      form,
      message,
    ),
  );
}

function deviceRow(device, onChanged) {
  const actionCell = h('td');
  const result = h('div');
  for (const [kind, label] of Object.entries(ACTIONS)) {
    actionCell.append(
      h(
        'button',
        {
          type: 'button',
          'data-action': kind,
          onclick: async () => {
            try {
              const action = await api('POST', `/devices/${encodeURIComponent(device.id)}/actions`, { kind });
              result.replaceChildren(
                h('span', { class: 'ok' }, '已发送，等待盒子下次心跳 Sent; waiting for the next heartbeat'),
              );
              if (kind === 'snapshot') waitForSnapshot(device, action.id);
              onChanged?.();
            } catch (error) {
              result.replaceChildren(errorBox(error));
            }
          },
        },
        label,
      ),
      ' ',
    );
  }
  actionCell.append(result);
  const health = Object.entries(device.health ?? {});
  return h(
    'tr',
    { class: 'device-row', 'data-device': device.id },
    h('td', {}, h('strong', {}, device.displayName), h('br'), h('small', {}, device.id)),
    h(
      'td',
      {},
      device.online
        ? h('span', { class: 'pill status-online' }, '在线 online')
        : h('span', { class: 'pill status-offline' }, '离线 offline'),
      ' ',
      device.inClass ? h('span', { class: 'pill in-class' }, '上课中 in class') : null,
    ),
    h(
      'td',
      { class: device.problems.length ? 'problems' : 'ok' },
      health.length === 0
        ? h('span', { class: 'muted' }, '未知 unknown')
        : device.problems.length
          ? device.problems.join(', ')
          : '正常 all ok',
      device.errorCode ? h('div', { class: 'problems' }, `错误 error: ${device.errorCode}`) : null,
    ),
    h(
      'td',
      {},
      device.version ?? '—',
      device.vitals?.board ? h('div', { class: 'muted board' }, device.vitals.board) : null,
    ),
    h(
      'td',
      {},
      ago(device.lastSeenAt),
      device.vitals?.temperatureC !== undefined
        ? h('div', { class: 'muted' }, `${device.vitals.temperatureC} °C`)
        : null,
    ),
    actionCell,
  );
}

/**
 * Follow a snapshot request until the box answers (at its next heartbeat), then show the picture
 * in the panel above the page, which the overview's refresh leaves alone.
 */
async function waitForSnapshot(device, actionId) {
  const panel = document.getElementById('panel');
  const title = h('h2', {}, ...both(`${device.displayName} 拍照`, `snapshot of ${device.id}`));
  const close = h('button', { type: 'button', onclick: () => panel.replaceChildren() }, '关闭 Close');
  const show = (...content) =>
    panel.replaceChildren(h('section', { class: 'card' }, title, ...content, close));
  show(h('p', { class: 'muted' }, '等待盒子回应… Waiting for the box…'));
  const path = `/devices/${encodeURIComponent(device.id)}`;
  for (let i = 0; i < 90; i++) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const actions = await api('GET', `${path}/actions`).catch(() => []);
    const action = actions.find((a) => a.id === actionId);
    if (action?.status === 'failed')
      return show(errorBox(new Error(action.detail ?? 'the box could not take a picture')));
    if (action?.status !== 'done') continue;
    const response = await fetch(`/api/v1/admin${path}/snapshot`, {
      headers: { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ''}` },
    });
    if (!response.ok) return show(errorBox(new Error(`HTTP ${response.status}`)));
    const url = URL.createObjectURL(await response.blob());
    return show(
      h('img', { class: 'snapshot', src: url, alt: `snapshot ${device.id}` }),
      h('small', {}, response.headers.get('x-taken-at') ?? ''),
    );
  }
  show(
    errorBox(
      new Error('盒子三分钟内没有回应，可能离线 The box did not answer within 3 minutes; it may be offline'),
    ),
  );
}

function devicesTable(devices) {
  if (devices.length === 0) return h('p', { class: 'muted' }, '还没有盒子 No boxes enrolled yet');
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...[
          ['盒子', 'Box'],
          ['状态', 'Status'],
          ['健康', 'Health'],
          ['版本', 'Version'],
          ['最后在线', 'Last seen'],
          ['远程操作', 'Remote actions'],
        ].map(([zh, en]) => h('th', {}, ...both(zh, en))),
      ),
    ),
    h(
      'tbody',
      {},
      devices.map((d) => deviceRow(d)),
    ),
  );
}

async function overviewView() {
  const [centres, devices] = await Promise.all([api('GET', '/centres'), api('GET', '/devices')]);
  const online = devices.filter((d) => d.online).length;
  const inClass = devices.filter((d) => d.inClass).length;
  const problems = devices.filter((d) => d.problems.length > 0 || !d.online).length;
  const sections = centres.map((centre) =>
    h(
      'section',
      { class: 'card centre', 'data-centre': centre.id },
      h(
        'h2',
        {},
        h('a', { href: `#/centre/${encodeURIComponent(centre.id)}` }, centre.name),
        ' ',
        h('small', {}, `${centre.id} · ${centre.region} · 房间 room ${centre.room.room}`),
      ),
      devicesTable(devices.filter((d) => d.centreId === centre.id)),
    ),
  );
  main.replaceChildren(
    h(
      'p',
      { id: 'summary' },
      `教学点 centres: ${centres.length} · 盒子 boxes: ${devices.length} · 在线 online: ${online} · 上课中 in class: ${inClass} · 需要关注 need attention: ${problems}`,
    ),
    ...(sections.length ? sections : [h('p', {}, '还没有教学点，请先新建 No centres yet: create one first')]),
  );
}

function tokenRow(t) {
  return h(
    'tr',
    { 'data-device': t.deviceId },
    h('td', {}, t.deviceId),
    h('td', {}, { unused: '未使用 unused', used: '已使用 used', expired: '已过期 expired' }[t.status]),
    h('td', {}, t.expiresAt),
    h('td', {}, t.usedAt ?? '—'),
  );
}

function timetableEditor(entries) {
  const body = h('tbody');
  const addRow = (entry = { title: '', weekday: 1, start: '09:00', end: '10:00' }) => {
    const row = h(
      'tr',
      { class: 'timetable-row' },
      h('td', {}, h('input', { name: 'title', value: entry.title, required: true, size: 20 })),
      h(
        'td',
        {},
        h(
          'select',
          { name: 'weekday' },
          WEEKDAYS.slice(1).map((label, i) =>
            h('option', { value: i + 1, selected: entry.weekday === i + 1 }, label),
          ),
        ),
      ),
      h('td', {}, h('input', { name: 'start', type: 'time', value: entry.start, required: true })),
      h('td', {}, h('input', { name: 'end', type: 'time', value: entry.end, required: true })),
      h('td', {}, h('button', { type: 'button', onclick: () => row.remove() }, '删除 Remove')),
    );
    body.append(row);
  };
  entries.forEach(addRow);
  const table = h(
    'table',
    { id: 'timetable' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...[
          ['课程', 'Title'],
          ['星期', 'Day'],
          ['开始', 'Start'],
          ['结束', 'End'],
          ['', ''],
        ].map(([zh, en]) => h('th', {}, zh, ' ', h('small', {}, en))),
      ),
    ),
    body,
  );
  const read = () =>
    [...body.querySelectorAll('tr')].map((row) => ({
      title: row.querySelector('[name=title]').value.trim(),
      weekday: Number(row.querySelector('[name=weekday]').value),
      start: row.querySelector('[name=start]').value,
      end: row.querySelector('[name=end]').value,
    }));
  return {
    element: h(
      'div',
      {},
      table,
      h('button', { type: 'button', onclick: () => addRow() }, '添加课程 Add class'),
    ),
    read,
  };
}

async function centreView(id) {
  const [centre, devices, tokens] = await Promise.all([
    api('GET', `/centres/${encodeURIComponent(id)}`),
    api('GET', `/devices?centre=${encodeURIComponent(id)}`),
    api('GET', `/centres/${encodeURIComponent(id)}/enrolment-tokens`),
  ]);
  const field = (name, attrs) => h('input', { name, id: `room-${name}`, ...attrs });
  const roomForm = h(
    'form',
    { class: 'grid', id: 'room-form' },
    h('label', { for: 'room-name' }, ...both('名称', 'Name')),
    h('input', { id: 'room-name', name: 'name', value: centre.name, required: true }),
    h('label', { for: 'room-region' }, ...both('地区', 'Region')),
    h('input', { id: 'room-region', name: 'region', value: centre.region, required: true }),
    h('label', { for: 'room-janusUrl' }, ...both('Janus 地址', 'Janus URL')),
    field('janusUrl', { value: centre.room.janusUrl, required: true, size: 40 }),
    h('label', { for: 'room-room' }, ...both('房间号', 'Room')),
    field('room', { type: 'number', min: 1, value: centre.room.room, required: true }),
    h('label', { for: 'room-bitrateKbps' }, ...both('码率 kbps', 'Bitrate')),
    field('bitrateKbps', { type: 'number', min: 64, max: 8000, value: centre.room.bitrateKbps ?? '' }),
    h('label', { for: 'room-pin' }, ...both('房间密码', 'Room PIN')),
    field('pin', {
      type: 'password',
      autocomplete: 'off',
      placeholder: centre.room.pinSet ? '已设置，留空不变 set; blank keeps it' : '未设置 not set',
    }),
    h('label', { for: 'room-timezone' }, ...both('时区', 'Time zone')),
    h('input', { id: 'room-timezone', name: 'timezone', value: centre.timezone, required: true }),
  );
  const timetable = timetableEditor(centre.timetable);
  const saveMessage = h('div');
  const save = h(
    'button',
    {
      type: 'button',
      id: 'centre-save',
      onclick: async () => {
        const value = (name) => roomForm.querySelector(`[name=${name}]`).value.trim();
        const room = { janusUrl: value('janusUrl'), room: Number(value('room')) };
        if (value('bitrateKbps')) room.bitrateKbps = Number(value('bitrateKbps'));
        if (value('pin')) room.pin = value('pin');
        try {
          await api('PATCH', `/centres/${encodeURIComponent(id)}`, {
            name: value('name'),
            region: value('region'),
            timezone: value('timezone'),
            room,
            timetable: timetable.read(),
          });
          saveMessage.replaceChildren(
            h(
              'span',
              { class: 'ok' },
              '已保存；盒子会在两节课之间应用 Saved; boxes apply it between classes',
            ),
          );
        } catch (error) {
          saveMessage.replaceChildren(errorBox(error));
        }
      },
    },
    ...both('保存', 'Save'),
  );

  const tokenResult = h('div', { id: 'token-result' });
  const tokenForm = h(
    'form',
    {
      class: 'grid',
      id: 'token-form',
      onsubmit: async (event) => {
        event.preventDefault();
        const count = Number(tokenForm.querySelector('[name=count]').value);
        const days = Number(tokenForm.querySelector('[name=days]').value);
        const ids = tokenForm
          .querySelector('[name=deviceIds]')
          .value.split(/[\s,]+/)
          .filter(Boolean);
        try {
          const { tokens: minted } = await api(
            'POST',
            `/centres/${encodeURIComponent(id)}/enrolment-tokens`,
            {
              count: ids.length || count,
              expiresInSeconds: Math.round(days * 86_400),
              ...(ids.length ? { deviceIds: ids } : {}),
            },
          );
          const issued = await api('GET', `/centres/${encodeURIComponent(id)}/enrolment-tokens`);
          tokenList.querySelector('tbody').replaceChildren(...issued.tokens.map(tokenRow));
          tokenResult.replaceChildren(
            h(
              'p',
              { class: 'ok' },
              `已生成 ${minted.length} 个令牌；每个文件只显示这一次 Created ${minted.length}; each file is shown only now`,
            ),
            ...minted.map((t) =>
              h(
                'div',
                { class: 'minted', 'data-device': t.deviceId },
                h('strong', {}, t.deviceId),
                ' ',
                h(
                  'a',
                  {
                    download: 'classbox-enrol.json',
                    href: URL.createObjectURL(
                      new Blob([JSON.stringify(t.seed, null, 2)], { type: 'application/json' }),
                    ),
                  },
                  '下载 classbox-enrol.json Download',
                ),
                h('small', {}, ` 有效期至 expires ${t.expiresAt}`),
              ),
            ),
          );
        } catch (error) {
          tokenResult.replaceChildren(errorBox(error));
        }
      },
    },
    h('label', { for: 'token-count' }, ...both('数量', 'Count')),
    h('input', { id: 'token-count', name: 'count', type: 'number', min: 1, max: 500, value: 1 }),
    h('label', { for: 'token-days' }, ...both('有效天数', 'Valid for days')),
    h('input', { id: 'token-days', name: 'days', type: 'number', min: 0.1, max: 90, step: 'any', value: 7 }),
    h('label', { for: 'token-ids' }, ...both('设备编号（可选）', 'Device ids (optional)')),
    h('input', { id: 'token-ids', name: 'deviceIds', placeholder: `${id}-01, ${id}-02`, size: 40 }),
    h('span'),
    h('button', { id: 'token-create', type: 'submit' }, ...both('生成注册令牌', 'Create enrolment tokens')),
  );
  const tokenList = h(
    'table',
    { id: 'token-list' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...[
          ['设备', 'Device'],
          ['状态', 'Status'],
          ['有效期至', 'Expires'],
          ['使用时间', 'Used'],
        ].map(([zh, en]) => h('th', {}, ...both(zh, en))),
      ),
    ),
    h('tbody', {}, tokens.tokens.map(tokenRow)),
  );
  main.replaceChildren(
    h('p', {}, h('a', { href: '#/' }, '← 总览 Overview')),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, centre.name, ' ', h('small', {}, centre.id)),
      devicesTable(devices),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, ...both('课堂设置与课表', 'Room settings and timetable')),
      roomForm,
      h('h3', {}, ...both('课表', 'Timetable')),
      timetable.element,
      h('p', {}, save),
      saveMessage,
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, ...both('注册令牌', 'Enrolment tokens')),
      tokenForm,
      tokenResult,
      h('h3', {}, ...both('已生成', 'Issued')),
      tokenList,
    ),
  );
}

function newCentreView() {
  const message = h('div');
  const form = h(
    'form',
    {
      class: 'grid',
      id: 'centre-form',
      onsubmit: async (event) => {
        event.preventDefault();
        const value = (name) => form.querySelector(`[name=${name}]`).value.trim();
        try {
          await api('POST', '/centres', {
            id: value('id'),
            name: value('name'),
            region: value('region'),
            room: { janusUrl: value('janusUrl'), room: Number(value('room')) },
          });
          location.hash = `#/centre/${encodeURIComponent(value('id'))}`;
        } catch (error) {
          message.replaceChildren(errorBox(error));
        }
      },
    },
    ...[
      ['id', '编号', 'Id', 'jx-ruijin'],
      ['name', '名称', 'Name', '瑞金教学点'],
      ['region', '地区', 'Region', '江西'],
      ['janusUrl', 'Janus 地址', 'Janus URL', 'wss://janus.example.cn'],
      ['room', '房间号', 'Room', '1234'],
    ].flatMap(([name, zh, en, placeholder]) => [
      h('label', { for: `new-${name}` }, ...both(zh, en)),
      h('input', { id: `new-${name}`, name, placeholder, required: true }),
    ]),
    h('span'),
    h('button', { type: 'submit' }, ...both('创建', 'Create')),
  );
  main.replaceChildren(
    h('section', { class: 'card' }, h('h2', {}, ...both('新建教学点', 'New centre')), form, message),
  );
}

async function route() {
  clearTimeout(refreshTimer);
  if (!sessionStorage.getItem(TOKEN_KEY)) return loginView();
  nav.hidden = false;
  const hash = location.hash || '#/';
  try {
    const centre = /^#\/centre\/(.+)$/.exec(hash);
    if (centre) await centreView(decodeURIComponent(centre[1]));
    else if (hash === '#/new-centre') return newCentreView();
    else {
      await overviewView();
      // Only the overview refreshes by itself: forms are never redrawn under the admin's cursor.
      refreshTimer = setTimeout(route, REFRESH_MS);
    }
    document.getElementById('refreshed').textContent = `更新于 Updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      // The credential was revoked or mistyped: ask again, saying why.
      sessionStorage.removeItem(TOKEN_KEY);
      loginView(error);
      return;
    }
    main.replaceChildren(errorBox(error));
  }
}

document.getElementById('logout').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  route();
});
window.addEventListener('hashchange', route);
route();
