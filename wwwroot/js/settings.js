// /settings: the Tools & Admin grid. Tabs: Global (master), one per agent, SMCP; a search box filters the
// cards of the open tab by name or description.
import { api } from './api.js';
import { el, startPage, badge, safePath, reportError } from './ui.js';

const me = await startPage();
if (me) await show().catch(reportError);

async function show() {
  const overall = document.querySelector('[data-testid=overall-status]');
  const tabsBox = document.getElementById('tabs');
  const cards = document.getElementById('cards');
  const empty = document.getElementById('empty');
  const search = document.getElementById('search');
  const shownCount = document.getElementById('shown-count');

  const [status, agents, tools] = await Promise.all([api('/api/status'), api('/api/agents'), api('/api/tools')]);

  overall.className = `badge status-${status.status}`;
  overall.textContent = `${status.status} · v${status.version}`;

  const tabs = [
    { category: 'master', label: 'Global' },
    ...agents.map(agent => ({ category: agent.id, label: agent.display_name || agent.name })),
    { category: 'smcp', label: 'SMCP' },
  ];
  const byCategory = new Map(tabs.map(tab => [tab.category, []]));
  for (const tool of tools) byCategory.get(tool.category)?.push(tool);

  const wanted = (() => { try { return decodeURIComponent(location.hash.slice(1)); } catch { return ''; } })();
  let current = tabs.some(tab => tab.category === wanted) ? wanted : 'master';

  tabsBox.replaceChildren(...tabs.map(tab => el('button', {
    type: 'button', class: 'tab', role: 'tab', 'data-category': tab.category,
    onclick: () => { current = tab.category; history.replaceState(null, '', '#' + encodeURIComponent(tab.category)); render(); },
  }, tab.label, el('span', { class: 'count', text: String(byCategory.get(tab.category).length) }))));

  search.addEventListener('input', render);
  render();

  function render() {
    for (const tab of tabsBox.children) tab.setAttribute('aria-selected', String(tab.dataset.category === current));
    const term = search.value.trim().toLowerCase();
    const inTab = byCategory.get(current);
    const shown = inTab.filter(tool => !term
      || tool.name.toLowerCase().includes(term) || (tool.description || '').toLowerCase().includes(term));
    cards.replaceChildren(...shown.map(card));
    empty.hidden = shown.length > 0;
    empty.textContent = inTab.length === 0 ? 'No tools in this tab yet.' : `No tool here matches “${search.value.trim()}”.`;
    shownCount.textContent = term ? `${shown.length} of ${inTab.length} shown` : '';
  }
}

function card(tool) {
  const path = safePath(tool.route_path);
  const open = tool.is_enabled && path
    ? el('a', { class: 'button small', href: path, 'data-testid': 'open', text: 'Open' })
    : el('span', { class: 'dim small', text: tool.is_enabled ? 'No page' : 'Disabled' });
  return el('article', { class: tool.is_enabled ? 'card' : 'card disabled', 'data-tool-id': tool.id, 'aria-disabled': tool.is_enabled ? null : 'true' },
    el('div', { class: 'card-head' },
      el('span', { class: 'emoji', 'aria-hidden': 'true', text: tool.emoji || '🔧' }),
      el('span', { class: 'name', 'data-testid': 'name', text: tool.name })),
    el('p', { class: 'desc', 'data-testid': 'description', text: tool.description || '' }),
    el('div', { class: 'card-foot' }, badge(tool.status), open));
}
