// /status: overall health, counts by status, the attention list, schema version and uptime; availability over the
// last 24 hours, recent status changes, and for admins the audit log with filters. Refreshes itself.
import { api } from './api.js';
import { live, coalesce } from './live.js';
import { el, startPage, badge, formatDuration, formatTime, statuses, safePath, reportError, isAdmin, busy } from './ui.js';

const RefreshMs = 10_000;
const AuditPage = 50;

const me = await startPage();
if (me) {
  const refresh = document.getElementById('refresh');
  let timer = 0;
  const load = async () => {
    clearTimeout(timer);
    const quiet = document.hidden;
    try {
      const [status, tools, availability, history] = await Promise.all([
        api('/api/status', { quiet }),
        api('/api/tools', { quiet }),
        api('/api/status/availability?hours=24', { quiet }),
        api('/api/status/history?limit=50', { quiet }),
      ]);
      show(status, new Map(tools.map(tool => [tool.id, tool.route_path])));
      showAvailability(availability);
      showHistory(history);
      document.getElementById('updated').textContent = `Updated ${new Date().toLocaleTimeString()}.`;
    } catch (error) {
      reportError(error);
    }
  };
  refresh.addEventListener('click', load);
  if (isAdmin(me)) startAudit();
  await load();
  // No timer: a status change reloads what it touches; without the stream, every RefreshMs.
  live(['status'], { 'status.changed': coalesce(load) }, { poll: load, pollMs: RefreshMs });
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
    : table(['Kind', 'Name', 'Status'], status.attention.map(item => el('tr', { 'data-kind': item.kind, 'data-id': item.id },
        el('td', { text: item.kind }), el('td', {}, link(item, toolRoutes)), el('td', {}, badge(item.status)))), 'Needs attention'));
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

function table(headings, rows, label = 'Table') {
  // A region that scrolls sideways on a phone must take the keyboard's focus to scroll (axe scrollable-region-focusable).
  return el('div', { class: 'table-wrap', tabIndex: 0, role: 'region', 'aria-label': label }, el('table', {},
    el('thead', {}, el('tr', {}, headings.map(h => el('th', { text: h })))),
    el('tbody', {}, rows)));
}

function showAvailability(items) {
  const rows = items.map(item => {
    const start = Date.parse(item.segments[0]?.from ?? 0);
    const end = Date.parse(item.segments.at(-1)?.to ?? 0);
    // No check or relay measures a status typed by hand, nor an agent no relay has polled yet: no percentage then.
    const measured = item.percent != null;
    const bar = el('div', { class: 'avail-bar', role: 'img', 'aria-label': measured ? `${item.name}: ${item.percent}% available` : `${item.name}: no signal` });
    for (const segment of item.segments) {
      const part = el('span', { class: `bar-${statuses.includes(segment.status) ? segment.status : 'Off'}`,
        title: `${segment.status} ${formatTime(segment.from)} – ${formatTime(segment.to)}` });
      // Widths through the CSSOM, which a strict style-src allows (an inline style attribute would not be).
      part.style.flexGrow = String(Math.max(0, Date.parse(segment.to) - Date.parse(segment.from)) / Math.max(1, end - start));
      bar.append(part);
    }
    return el('div', { class: 'avail-row', 'data-kind': item.kind, 'data-id': item.id },
      el('span', {}, el('span', { class: 'dim small', text: `${item.kind} ` }), item.name, ' ', badge(item.status),
        ' ', item.status_source === 'manual' ? el('span', { class: 'dim small', 'data-testid': 'status-source', text: 'set by hand' }) : ''),
      bar,
      el('span', { class: 'avail-percent', 'data-testid': 'percent', text: measured ? `${formatPercent(item.percent)} %` : 'no signal' }));
  });
  document.getElementById('availability').replaceChildren(...(rows.length ? rows : [el('p', { class: 'dim', text: 'Nothing to show.' })]));
}

function formatPercent(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function showHistory(changes) {
  document.getElementById('history').replaceChildren(changes.length === 0
    ? el('p', { class: 'dim', text: 'No status changes yet.' })
    : table(['When', 'What', 'Change', 'Source', 'Why'], changes.map(change =>
        el('tr', { 'data-history-id': String(change.id), 'data-kind': change.kind, 'data-id': change.entity_id },
          el('td', { text: formatTime(change.at) }),
          el('td', {}, el('span', { class: 'dim small', text: `${change.kind} ` }), change.name ?? change.entity_id),
          el('td', {}, change.old_status ? badge(change.old_status, { 'data-testid': 'old-status' }) : el('span', { class: 'dim', text: 'new' }),
            ' → ', badge(change.new_status, { 'data-testid': 'new-status' })),
          el('td', { text: change.source }),
          el('td', { class: 'small', text: change.reason ?? '' }))), 'Status changes'));
}

function startAudit() {
  const panel = document.getElementById('audit-panel');
  const form = document.getElementById('audit-filter');
  const list = document.getElementById('audit');
  const more = document.getElementById('audit-more');
  const verdict = document.getElementById('audit-verdict');
  panel.hidden = false;
  let cursor = null;
  let body = null;

  const query = () => {
    const params = new URLSearchParams({ limit: String(AuditPage) });
    for (const name of ['action', 'actor', 'target']) {
      const value = form.elements[name].value.trim();
      if (value) params.set(name, value);
    }
    if (form.elements.since.value) params.set('since', new Date(form.elements.since.value).toISOString());
    if (cursor) params.set('cursor', String(cursor));
    return `/api/audit?${params}`;
  };

  const load = async append => {
    if (!append) cursor = null;
    const page = await api(query());
    const rows = page.items.map(item => el('tr', { 'data-audit-id': String(item.id), 'data-action': item.action },
      el('td', { text: formatTime(item.at) }),
      el('td', { 'data-testid': 'actor', text: item.actor ?? 'system' }),
      el('td', { 'data-testid': 'action', text: item.action }),
      el('td', { text: [item.target_type, item.target_id].filter(Boolean).join(' ') }),
      el('td', { class: `status-${item.outcome === 'ok' ? 'Healthy' : 'Degraded'}`, text: item.outcome }),
      el('td', { 'data-testid': 'address', text: item.address ?? '' }),
      el('td', { class: 'details', text: item.details == null ? '' : JSON.stringify(item.details) })));
    if (!append || !body) {
      const wrap = table(['When', 'Who', 'What', 'Target', 'Outcome', 'From', 'Details'], rows, 'Audit log');
      body = wrap.querySelector('tbody');
      list.replaceChildren(page.items.length ? wrap : el('p', { class: 'dim', 'data-testid': 'audit-empty', text: 'No events match.' }));
    } else {
      body.append(...rows);
    }
    cursor = page.next_cursor;
    more.hidden = cursor == null;
  };

  form.addEventListener('submit', event => {
    event.preventDefault();
    busy(form.querySelector('button[type=submit]'), () => load(false)).catch(reportError);
  });
  more.addEventListener('click', () => busy(more, () => load(true)).catch(reportError));
  document.getElementById('audit-verify').addEventListener('click', event => busy(event.currentTarget, async () => {
    const result = await api('/api/audit/verify');
    verdict.className = `small ${result.ok ? 'verdict-ok' : 'verdict-bad'}`;
    verdict.textContent = result.ok
      ? `Chain intact: ${result.checked} events checked.`
      : `Chain broken at event ${result.first_bad_id} (${result.checked} checked).`;
  }).catch(reportError));
  load(false).catch(reportError);
}
