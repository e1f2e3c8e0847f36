// /status, beside status.js: the System figures (every signed-in user) and, for admins, tabs for the service's Logs
// (logs.js) and Alerts (alerts.js). Builds its own panels, so the page's markup only loads this module.
import { api } from './api.js';
import { el, formatBytes, formatDuration, reportError, isAdmin } from './ui.js';
import { logsPanel } from './logs.js';
import { alertsPanel } from './alerts.js';

const SystemRefreshMs = 15_000;

let me = null;
try { me = await api('/api/auth/me', { quiet: true }); } catch { /* status.js sends the visitor to sign in */ }
const main = document.querySelector('main');
if (me && !me.must_change_password && main) {
  const system = systemPanel();
  main.append(system);
  if (isAdmin(me)) {
    const panels = { logs: logsPanel(), alerts: alertsPanel() };
    main.append(panels.logs.section, panels.alerts.section);
    tabs(panels);
  }
}

/** Status | Logs | Alerts: the Status tab is everything that is not another tab's panel. */
function tabs(panels) {
  const names = [['status', 'Status'], ['logs', 'Logs'], ['alerts', 'Alerts']];
  const buttons = names.map(([name, text]) => el('button', {
    type: 'button', class: 'tab', role: 'tab', 'data-tab-name': name, 'data-testid': `tab-${name}`, text,
    'aria-selected': name === 'status' ? 'true' : 'false', onclick: () => select(name),
  }));
  const nav = el('nav', { class: 'tabs', role: 'tablist', 'data-testid': 'status-tabs' }, buttons);
  document.querySelector('.page-head').after(nav);
  const select = name => {
    for (const button of buttons) button.setAttribute('aria-selected', String(button.dataset.tabName === name));
    for (const child of main.children) {
      if (child === nav || child.classList.contains('page-head') || child.classList.contains('notice-wrap')) continue;
      const tab = child.dataset.tab ?? 'status';
      child.classList.toggle('tab-off', tab !== name);
    }
    panels.logs.active(name === 'logs');
    if (name === 'alerts') panels.alerts.load().catch(reportError);
    history.replaceState(null, '', name === 'status' ? location.pathname : `#${name}`);
  };
  const start = location.hash.slice(1);
  select(names.some(([name]) => name === start) ? start : 'status');
}

function systemPanel() {
  const figures = el('div', { class: 'chips', 'data-testid': 'system-figures' });
  const chart = el('div', { 'data-testid': 'system-history' });
  const section = el('section', { class: 'panel', 'data-tab': 'status', 'data-testid': 'system' },
    el('h2', { text: 'System' }),
    el('p', { class: 'dim small', text: 'This host and this server process; the chart is the last hour, sampled every 15 s.' }),
    figures, chart);
  const chip = (name, value, attrs = {}) => el('span', { class: 'badge', 'data-figure': name, ...attrs, text: value });
  const load = async () => {
    try {
      const s = await api('/api/status/system', { quiet: true });
      const percent = v => (v == null ? '—' : `${v.toFixed(1)} %`);
      figures.replaceChildren(
        chip('cpu', `CPU ${percent(s.cpu_percent)}`),
        chip('load', `Load ${s.load_average ? s.load_average.map(v => v.toFixed(2)).join(' ') : '—'}`),
        chip('memory', `Memory ${percent(s.memory.used_percent)} of ${s.memory.total_bytes ? formatBytes(s.memory.total_bytes) : '—'}`),
        chip('working-set', `Process ${formatBytes(s.process.working_set_bytes)} (GC heap ${formatBytes(s.process.gc_heap_bytes)})`),
        chip('threads', `Threads ${s.process.threads}`),
        chip('disk', `Disk ${formatBytes(s.disk.free_bytes)} free of ${formatBytes(s.disk.total_bytes)}${s.disk.low ? ' · LOW' : ''}`,
          { class: s.disk.low ? 'badge status-Off' : 'badge', 'data-low': String(s.disk.low) }),
        chip('uptime', `Up ${formatDuration(s.uptime_seconds)}`));
      chart.replaceChildren(sparkline(s.history));
    } catch (error) {
      reportError(error);
    } finally {
      setTimeout(load, SystemRefreshMs);
    }
  };
  load();
  return section;
}

/** CPU (and memory) use over the history as two polylines, 0-100 %. */
function sparkline(history) {
  // SVG's namespace is a name, not an address the page loads (written so that no outside URL appears in the pages).
  const ns = ['http:', '', 'www.w3.org', '2000', 'svg'].join('/');
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 240 40');
  svg.setAttribute('class', 'sparkline');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `CPU and memory use, ${history.length} samples`);
  const line = (key, cls) => {
    const points = history.map((s, i) => [history.length < 2 ? 0 : (i * 240) / (history.length - 1), 40 - ((s[key] ?? 0) * 40) / 100]);
    const poly = document.createElementNS(ns, 'polyline');
    poly.setAttribute('points', points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' '));
    poly.setAttribute('class', cls);
    svg.append(poly);
  };
  line('memory_used_percent', 'spark-memory');
  line('cpu_percent', 'spark-cpu');
  return svg;
}
