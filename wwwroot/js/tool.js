// The generic tool page: the tool whose route_path is this page's path, with its instances, plugins and
// configuration. Admins can change its status and enable or disable it.
import { api } from './api.js';
import { el, startPage, badge, isAdmin, formatTime, statuses, clearErrors, showFieldErrors, busy, reportError } from './ui.js';

const me = await startPage();
if (me) await show().catch(reportError);

async function show() {
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const tools = await api('/api/tools');
  let tool = tools.find(t => t.route_path === path);
  if (!tool) {
    document.getElementById('tool-name').textContent = 'No tool here';
    document.getElementById('tool-description').textContent = 'No tool uses this address as its route any more.';
    return;
  }
  document.title = `${tool.name} · Sanctum`;
  const agents = await api('/api/agents');
  const agentName = id => agents.find(a => a.id === id)?.display_name || id;
  renderTool();
  document.getElementById('details').hidden = false;

  if (isAdmin(me)) adminControls();
  for (const id of ['instances-panel', 'plugins-panel', 'configurations-panel']) document.getElementById(id).hidden = false;
  await Promise.all([
    list('instances', `/api/tools/${encodeURIComponent(tool.id)}/instances`, ['Name', 'Agent', 'Status', 'Active', 'Last run', 'Next run'],
      i => [i.name || `#${i.id}`, i.agent_id ? agentName(i.agent_id) : 'Global', badge(i.status), yesNo(i.is_active), formatTime(i.last_run), formatTime(i.next_run)],
      'This tool has no instances.'),
    list('plugins', `/api/tools/${encodeURIComponent(tool.id)}/plugins`, ['Name', 'Version', 'Status', 'Enabled', 'Depends on'],
      p => [p.name, p.version || '—', p.status || '—', yesNo(p.is_enabled), (p.dependencies || []).join(', ') || '—'],
      'This tool has no plugins.'),
    list('configurations', `/api/configurations?scope=tool&scope_id=${encodeURIComponent(tool.id)}`, ['Key', 'Value', 'Type', 'Description'],
      c => [el('code', { text: c.key }), c.is_encrypted ? (c.value ? '********' : '(not set)') : display(c.value), c.type, c.description || ''],
      'No configuration is set for this tool.'),
  ]);

  function renderTool() {
    document.getElementById('tool-emoji').textContent = tool.emoji || '🔧';
    document.getElementById('tool-name').textContent = tool.name;
    document.getElementById('tool-description').textContent = tool.description || '';
    document.getElementById('tool-state').replaceChildren(
      badge(tool.status),
      el('span', { class: tool.is_enabled ? 'badge status-Healthy' : 'badge status-Off', 'data-testid': 'enabled', text: tool.is_enabled ? 'Enabled' : 'Disabled' }));
    const category = tool.category === 'master' ? 'Global' : tool.category === 'smcp' ? 'SMCP' : `Agent: ${agentName(tool.category)}`;
    document.getElementById('facts').replaceChildren(...[
      ['Id', tool.id], ['Category', category], ['Route', tool.route_path], ['Scope', tool.module_scope],
      ['Created', formatTime(tool.created_at)], ['Updated', formatTime(tool.updated_at)],
    ].flatMap(([name, value]) => [el('dt', { text: name }), el('dd', { text: value ?? '—' })]));
  }

  function adminControls() {
    const form = document.getElementById('admin-controls');
    const select = form.status;
    const toggle = document.getElementById('toggle-enabled');
    select.replaceChildren(...statuses.map(s => el('option', { value: s, text: s })));
    const sync = () => { select.value = tool.status; toggle.textContent = tool.is_enabled ? 'Disable tool' : 'Enable tool'; };
    const patch = async body => {
      clearErrors(form);
      try {
        await api(`/api/tools/${encodeURIComponent(tool.id)}`, { method: 'PATCH', body });
        tool = await api(`/api/tools/${encodeURIComponent(tool.id)}`);
        renderTool();
        sync();
      } catch (error) {
        showFieldErrors(form, error.errors);
      }
    };
    form.addEventListener('submit', event => {
      event.preventDefault();
      busy(form.querySelector('[type=submit]'), () => patch({ status: select.value }));
    });
    toggle.addEventListener('click', () => busy(toggle, () => patch({ is_enabled: !tool.is_enabled })));
    sync();
    form.hidden = false;
  }
}

async function list(id, url, headings, cells, emptyText) {
  const box = document.getElementById(id);
  try {
    const body = await api(url, { quiet: true });
    const rows = Array.isArray(body) ? body : body?.items ?? [];
    box.replaceChildren(rows.length === 0
      ? el('p', { class: 'dim', text: emptyText })
      : el('div', { class: 'table-wrap' }, el('table', {},
          el('thead', {}, el('tr', {}, headings.map(h => el('th', { text: h })))),
          el('tbody', {}, rows.map(row => el('tr', { 'data-id': String(row.id ?? '') }, cells(row).map(c => el('td', {}, c))))))));
  } catch (error) {
    box.replaceChildren(el('p', { class: 'dim', text: `Not available: ${error.message}` }));
  }
}

function yesNo(value) {
  return value ? 'Yes' : 'No';
}

function display(value) {
  if (value == null || value === '') return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
