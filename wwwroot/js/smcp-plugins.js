// /smcp-plugins (admins): every plugin folder of every SMCP server with a home folder (GET /api/smcp/plugins), each
// with its version and commands (the MCP tools plugin__command) or the exact problem of its --describe.
import { api } from './api.js';
import { el, startPage, busy, reportError } from './ui.js';

const $ = id => document.getElementById(id);
let servers = new Map();

const me = await startPage({ adminOnly: true });
if (me) {
  $('reload').addEventListener('click', event => busy(event.currentTarget, load).catch(reportError));
  await load().catch(reportError);
}

async function load() {
  const [instances, plugins] = await Promise.all([api('/api/tools/smcp/instances'), api('/api/smcp/plugins')]);
  servers = new Map(instances.map(i => [i.id, i.name || `Instance ${i.id}`]));
  const withHome = instances.filter(i => i.config?.home);
  $('none').hidden = plugins.items.length > 0;
  $('none').textContent = withHome.length
    ? 'The servers\u2019 plugins folders hold no plugin (a folder with a cli.py).'
    : 'No SMCP server has a home folder: give one its install folder (config "home") under SMCP tools \u2192 Servers.';
  const byServer = Map.groupBy(plugins.items, p => p.instance_id);
  $('plugins').replaceChildren(...[...byServer].map(([id, list]) => el('section', { class: 'panel', 'data-instance-id': String(id) },
    el('div', { class: 'section-head' }, el('h2', { text: servers.get(id) ?? `Instance ${id}` }),
      el('span', { class: 'dim small', text: `${list.length} plugin(s), ${list.filter(p => p.problem).length} with a problem` })),
    ...list.map(plugin))));
}

function plugin(entry) {
  const head = el('h3', {}, el('code', { text: entry.name }), entry.version ? el('span', { class: 'dim small', text: ` v${entry.version}` }) : null);
  if (entry.problem) return el('div', { class: 'inset', 'data-plugin': entry.name, 'data-testid': 'plugin' },
    head, el('p', { class: 'verdict-bad', 'data-testid': 'plugin-problem', text: entry.problem }));
  return el('div', { class: 'inset', 'data-plugin': entry.name, 'data-testid': 'plugin' },
    head, entry.description ? el('p', { text: entry.description }) : null,
    el('div', { class: 'table-wrap' }, el('table', { class: 'stack-narrow' },
      el('thead', {}, el('tr', {}, ['Tool', 'Description', 'Parameters'].map(h => el('th', { text: h })))),
      el('tbody', {}, entry.commands.map(c => el('tr', { 'data-command': c.name },
        el('td', { 'data-label': 'Tool' }, el('code', { text: `${entry.name}__${c.name}` })),
        el('td', { 'data-label': 'Description', text: c.description ?? '' }),
        el('td', { 'data-label': 'Parameters', text: parameters(c.parameters) })))))));
}

function parameters(list) {
  if (!Array.isArray(list) || !list.length) return '—';
  return list.map(p => p && typeof p === 'object' && p.name
    ? `${p.name}${p.type ? ` (${p.type}${p.required ? ', required' : ''})` : p.required ? ' (required)' : ''}`
    : JSON.stringify(p)).join(', ');
}
