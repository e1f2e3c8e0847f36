// /status: overall health, counts by status, the attention list, schema version and uptime; refreshes itself.
import { api } from './api.js';
import { el, startPage, badge, formatDuration, statuses, safePath, reportError } from './ui.js';

const RefreshMs = 10_000;

const me = await startPage();
if (me) {
  const refresh = document.getElementById('refresh');
  let timer = 0;
  const load = async () => {
    clearTimeout(timer);
    try {
      const quiet = document.hidden;
      const [status, tools] = await Promise.all([api('/api/status', { quiet }), api('/api/tools', { quiet })]);
      show(status, new Map(tools.map(tool => [tool.id, tool.route_path])));
    } catch (error) {
      reportError(error);
    } finally {
      timer = setTimeout(load, RefreshMs);
    }
  };
  refresh.addEventListener('click', load);
  await load();
}

function show(status, toolRoutes) {
  const set = (selector, text, root = document) => { root.querySelector(selector).textContent = text; };
  const overall = document.querySelector('[data-testid=overall-status]');
  overall.className = `badge status-${status.status}`;
  overall.textContent = status.status;
  set('[data-testid=version]', status.version);
  set('[data-testid=uptime]', formatDuration(status.uptime_seconds));
  const database = document.querySelector('[data-testid=database-status]');
  database.className = `badge status-${status.database.status}`;
  database.textContent = status.database.status;
  set('[data-testid=schema-version]', String(status.database.schema_version));
  counts(document.querySelector('[data-testid=tools]'), status.tools.total, status.tools.enabled, status.tools.by_status);
  counts(document.querySelector('[data-testid=agents]'), status.agents.total, status.agents.active, status.agents.by_status);

  const attention = document.getElementById('attention');
  attention.replaceChildren(status.attention.length === 0
    ? el('p', { class: 'dim', text: 'Every enabled tool and active agent is Healthy or Ready.' })
    : el('div', { class: 'table-wrap' }, el('table', {},
        el('thead', {}, el('tr', {}, el('th', { text: 'Kind' }), el('th', { text: 'Name' }), el('th', { text: 'Status' }))),
        el('tbody', {}, status.attention.map(item => el('tr', { 'data-kind': item.kind, 'data-id': item.id },
          el('td', { text: item.kind }), el('td', {}, link(item, toolRoutes)), el('td', {}, badge(item.status))))))));
  document.getElementById('updated').textContent = `Updated ${new Date().toLocaleTimeString()}.`;
}

// An attention row leads to the item: a tool's own page, an agent's page.
function link(item, toolRoutes) {
  const href = item.kind === 'agent' ? `/agents/${encodeURIComponent(item.id)}` : safePath(toolRoutes.get(item.id));
  return href ? el('a', { href, 'data-testid': 'attention-link', text: item.name }) : item.name;
}

function counts(section, total, on, byStatus) {
  section.querySelector('[data-testid=total]').textContent = String(total);
  section.querySelector('[data-testid=on]').textContent = String(on);
  section.querySelector('[data-testid=by-status]').replaceChildren(...statuses.map(name =>
    el('span', { class: `badge status-${name}`, 'data-status': name, text: `${name} ${byStatus[name] ?? 0}` })));
}
