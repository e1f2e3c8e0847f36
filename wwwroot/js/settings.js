// /settings: the Tools & Admin grid. Tabs: Global (master), one per agent, SMCP. The search box looks through
// every tab (each result names its tab). Admins also see inactive agents' tabs, open disabled tools to enable
// them again, and add tools.
import { api, notify } from './api.js';
import { el, startPage, badge, safePath, isAdmin, statuses, clearErrors, showFieldErrors, busy, parseJson, formField, selectOf, slug, reportError } from './ui.js';

const me = await startPage();
if (me) await show().catch(reportError);

async function show() {
  const admin = isAdmin(me);
  const overall = document.querySelector('[data-testid=overall-status]');
  const tabsBox = document.getElementById('tabs');
  const tabHead = document.getElementById('tab-head');
  const cards = document.getElementById('cards');
  const empty = document.getElementById('empty');
  const search = document.getElementById('search');
  const shownCount = document.getElementById('shown-count');

  const [status, agents, loaded] = await Promise.all([
    api('/api/status'), api(admin ? '/api/agents?include_inactive=true' : '/api/agents'), api('/api/tools')]);
  let tools = loaded;

  overall.className = `badge status-${status.status}`;
  overall.textContent = `${status.status} · v${status.version}`;

  const tabs = [
    { category: 'master', label: 'Global' },
    ...agents.map(agent => ({ category: agent.id, label: agent.display_name || agent.name, agent })),
    { category: 'smcp', label: 'SMCP' },
  ];
  const tabOf = category => tabs.find(tab => tab.category === category);

  const wanted = (() => { try { return decodeURIComponent(location.hash.slice(1)); } catch { return ''; } })();
  let current = tabOf(wanted) ? wanted : 'master';

  search.addEventListener('input', render);
  if (admin) addToolForm();
  render();

  function render() {
    const count = category => tools.filter(tool => tool.category === category).length;
    tabsBox.replaceChildren(...tabs.map(tab => el('button', {
      type: 'button', class: tab.agent && !tab.agent.is_active ? 'tab inactive' : 'tab', role: 'tab', 'data-category': tab.category,
      'aria-selected': String(tab.category === current),
      title: tab.agent && !tab.agent.is_active ? 'Inactive agent: only admins see this tab' : null,
      onclick: () => { current = tab.category; history.replaceState(null, '', '#' + encodeURIComponent(tab.category)); render(); },
    }, tab.label, el('span', { class: 'count', text: String(count(tab.category)) }))));

    const tab = tabOf(current);
    tabHead.replaceChildren(...(tab.agent ? [
      el('span', { class: 'dim small', text: tab.agent.description || '' }),
      tab.agent.is_active ? '' : el('span', { class: 'badge status-Off', text: 'Inactive' }),
      el('a', { class: 'button small', href: `/agents/${encodeURIComponent(tab.category)}`, 'data-testid': 'agent-page', text: '🤖 Agent settings' }),
    ] : []));
    tabHead.hidden = !tab.agent;

    // A search looks through every tab, so a tool is found without knowing where it lives.
    const term = search.value.trim().toLowerCase();
    const inTab = tools.filter(tool => tool.category === current);
    const shown = term
      ? tools.filter(tool => tabOf(tool.category) && (tool.name.toLowerCase().includes(term) || (tool.description || '').toLowerCase().includes(term)))
      : inTab;
    cards.replaceChildren(...shown.map(tool => card(tool, term ? tabOf(tool.category).label : null)));
    empty.hidden = shown.length > 0;
    empty.textContent = term ? `No tool here matches “${search.value.trim()}”, in any tab.` : 'No tools in this tab yet.';
    shownCount.textContent = term ? `${shown.length} found in all tabs` : '';
  }

  function card(tool, tabLabel) {
    const path = safePath(tool.route_path);
    // A disabled tool stays reachable for admins, so it can be enabled again from its page.
    const linked = path && (tool.is_enabled || admin);
    const open = linked
      ? el('a', { class: 'button small', href: path, 'data-testid': 'open', text: 'Open' })
      : el('span', { class: 'dim small', text: tool.is_enabled ? 'No page' : 'Disabled' });
    return el('article', { class: tool.is_enabled ? 'card' : 'card disabled', 'data-tool-id': tool.id, 'aria-disabled': tool.is_enabled || linked ? null : 'true' },
      el('div', { class: 'card-head' },
        el('span', { class: 'emoji', 'aria-hidden': 'true', text: tool.emoji || '🔧' }),
        el('span', { class: 'name', 'data-testid': 'name', text: tool.name }),
        tabLabel ? el('span', { class: 'tab-label small', 'data-testid': 'tab-label', text: tabLabel }) : null),
      el('p', { class: 'desc', 'data-testid': 'description', text: tool.description || '' }),
      el('div', { class: 'card-foot' }, badge(tool.status), linked && !tool.is_enabled ? el('span', { class: 'dim small', text: 'Disabled' }) : null, open));
  }

  function addToolForm() {
    const panel = document.getElementById('add-tool');
    const toggle = document.getElementById('add-tool-toggle');
    toggle.hidden = false;
    const input = (name, attrs = {}) => el('input', { type: 'text', name, ...attrs });
    const form = el('form', { id: 'tool-form', noValidate: true },
      el('h2', { text: 'Add a tool' }),
      el('div', { class: 'grid-2' },
        formField('Name', input('name', { maxLength: 100, required: true })),
        formField('Id', input('id', { maxLength: 50, required: true, autocapitalize: 'none', spellcheck: false }), { hint: 'Lowercase letters, digits and dashes; suggested from the name.' }),
        formField('Tab (category)', selectOf('category', tabs.map(tab => [tab.category, tab.label]), current)),
        formField('Page route', input('route_path', { maxLength: 200, placeholder: '/my-tool' }), { hint: 'A path on this site starting with /; the card’s Open link.' }),
        formField('Emoji', input('emoji', { maxLength: 32, placeholder: '🔧' })),
        formField('Status', selectOf('status', statuses, 'Healthy')),
        formField('Scope', selectOf('module_scope', [['global', 'global: any number of instances'], ['agent', 'agent: one instance per agent']], 'global')),
        el('div', { class: 'field' }, el('label', { class: 'toggle' }, el('input', { type: 'checkbox', name: 'is_enabled', checked: true }), ' Enabled'),
          el('div', { class: 'error', 'data-error-for': 'is_enabled' }))),
      formField('Description', el('textarea', { name: 'description', rows: 2, maxLength: 1000 })),
      formField('Config schema (JSON Schema for its instances’ config, optional)', el('textarea', { name: 'config_schema', class: 'mono', rows: 4, spellcheck: false, placeholder: '{"type": "object"}' })),
      el('div', { class: 'actions' },
        el('button', { type: 'submit', class: 'primary', 'data-testid': 'create-tool', text: 'Add tool' }),
        el('button', { type: 'button', text: 'Cancel', onclick: () => { panel.hidden = true; toggle.setAttribute('aria-expanded', 'false'); } })));
    panel.replaceChildren(form);
    const f = name => form.elements.namedItem(name);
    f('id').addEventListener('input', () => { f('id').dataset.touched = f('id').value ? 'yes' : ''; });
    f('name').addEventListener('input', () => { if (!f('id').dataset.touched) f('id').value = slug(f('name').value); });
    toggle.addEventListener('click', () => {
      panel.hidden = !panel.hidden;
      toggle.setAttribute('aria-expanded', String(!panel.hidden));
      if (!panel.hidden) { f('category').value = current; f('name').focus(); }
    });

    form.addEventListener('submit', async event => {
      event.preventDefault();
      clearErrors(form);
      const text = name => f(name).value.trim();
      const schema = parseJson(f('config_schema').value);
      if (schema.error) { showFieldErrors(form, { config_schema: [schema.error] }); return; }
      const body = {
        id: text('id'), name: text('name'), category: f('category').value, status: f('status').value,
        module_scope: f('module_scope').value, is_enabled: f('is_enabled').checked,
        description: text('description') || null, emoji: text('emoji') || null, route_path: text('route_path') || null,
        config_schema: schema.value,
      };
      await busy(form.querySelector('[type=submit]'), async () => {
        try {
          const tool = await api('/api/tools', { method: 'POST', body });
          tools = [...tools, tool].sort((a, b) => a.category.localeCompare(b.category) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
          form.reset();
          f('id').dataset.touched = '';
          panel.hidden = true;
          current = tool.category;
          history.replaceState(null, '', '#' + encodeURIComponent(current));
          search.value = '';
          render();
          notify(`Added ${tool.name} to ${tabOf(tool.category).label}.`);
        } catch (error) {
          showFieldErrors(form, error.status === 409 ? { id: [error.message] } : error.errors);
        }
      });
    });
  }
}
