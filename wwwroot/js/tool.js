// The generic tool page: the tool whose route_path is this page's path (or /tools/<id>), with its instances, plugins and
// configurations. Admins edit every field of the tool, and add, edit and delete its instances (config as JSON,
// checked by the server against the tool's config_schema), plugins (dependencies; a cycle is refused at the
// field) and configurations of each scope (the tool, or one of its instances).
import { api, notify } from './api.js';
import { historyButton } from './setting-history.js';
import {
  el, startPage, badge, isAdmin, formatTime, statuses, clearErrors, showFieldErrors, busy, confirmDialog,
  parseJson, formField, selectOf, reportError,
} from './ui.js';

const pluginStatuses = ['Active', 'Inactive', 'Error'];
const configTypes = ['string', 'number', 'boolean', 'json'];

const me = await startPage();
if (me) await show().catch(reportError);

async function show() {
  const admin = isAdmin(me);
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const tools = await api('/api/tools');
  const byId = /^\/tools\/([^/]+)$/.exec(path);
  let tool = tools.find(t => t.route_path === path) ?? (byId && tools.find(t => t.id === decodeURIComponent(byId[1])));
  if (!tool) {
    document.getElementById('tool-name').textContent = 'No tool here';
    document.getElementById('tool-description').textContent = 'No tool uses this address as its route any more.';
    return;
  }
  const toolUrl = () => `/api/tools/${encodeURIComponent(tool.id)}`;
  document.title = `${tool.name} · Sanctum`;
  const agents = await api(admin ? '/api/agents?include_inactive=true' : '/api/agents');
  const agentName = id => agents.find(a => a.id === id)?.display_name || id;
  let instances = [], plugins = [], configScope = 'tool:' + tool.id;
  renderTool();
  document.getElementById('details').hidden = false;

  if (admin) adminControls();
  for (const id of ['instances-panel', 'plugins-panel', 'configurations-panel']) document.getElementById(id).hidden = false;
  if (admin) {
    addButton('instances', 'Add instance', () => instanceForm(null));
    addButton('plugins', 'Add plugin', () => pluginForm(null));
    addButton('configurations', 'Add setting', () => configurationForm(null));
  }
  await Promise.all([loadInstances(), loadPlugins()]);
  await loadConfigurations();

  function renderTool() {
    document.getElementById('tool-emoji').textContent = tool.emoji || '🔧';
    document.getElementById('tool-name').textContent = tool.name;
    document.getElementById('tool-description').textContent = tool.description || '';
    document.getElementById('tool-state').replaceChildren(
      badge(tool.status),
      // No check or relay speaks for a status typed by hand: say so, rather than let it pass for a measurement.
      tool.status_source === 'manual' ? el('span', { class: 'dim small', 'data-testid': 'status-source', text: 'set by hand' }) : '',
      el('span', { class: tool.is_enabled ? 'badge status-Healthy' : 'badge status-Off', 'data-testid': 'enabled', text: tool.is_enabled ? 'Enabled' : 'Disabled' }));
    const category = tool.category === 'master' ? 'Global' : tool.category === 'smcp' ? 'SMCP' : `Agent: ${agentName(tool.category)}`;
    document.getElementById('facts').replaceChildren(...[
      ['Id', tool.id], ['Category', category], ['Route', tool.route_path], ['Scope', tool.module_scope],
      ['Config schema', tool.config_schema ? JSON.stringify(tool.config_schema) : 'none'],
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
        tool = await api(toolUrl(), { method: 'PATCH', body });
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

    document.getElementById('details-actions').replaceChildren(
      el('button', { type: 'button', class: 'small', 'data-testid': 'edit-tool', text: '✏️ Edit tool', onclick: toolForm }),
      el('button', { type: 'button', class: 'small danger', 'data-testid': 'delete-tool', text: 'Delete tool', onclick: deleteTool }));
  }

  // Every field of the tool, saved with PUT (the whole tool), so an emptied field is cleared.
  function toolForm() {
    const categories = [['master', 'Global'], ...agents.map(a => [a.id, `Agent: ${a.display_name || a.name}`]), ['smcp', 'SMCP']];
    const form = editor('edit-tool', 'Edit tool', [
      formField('Name', el('input', { type: 'text', name: 'name', maxLength: 100, value: tool.name })),
      formField('Emoji', el('input', { type: 'text', name: 'emoji', maxLength: 32, value: tool.emoji ?? '' })),
      formField('Tab (category)', selectOf('category', categories, tool.category)),
      formField('Page route', el('input', { type: 'text', name: 'route_path', maxLength: 200, value: tool.route_path ?? '' })),
      formField('Status', selectOf('status', statuses, tool.status)),
      formField('Scope', selectOf('module_scope', [['global', 'global: any number of instances'], ['agent', 'agent: one instance per agent']], tool.module_scope)),
      toggleField('Enabled', 'is_enabled', tool.is_enabled),
      formField('Description', el('textarea', { name: 'description', rows: 2, maxLength: 1000, value: tool.description ?? '' }), { wide: true }),
      formField('Config schema (JSON Schema for the instances’ config; empty for none)',
        el('textarea', { name: 'config_schema', class: 'mono', rows: 5, spellcheck: false, value: tool.config_schema ? JSON.stringify(tool.config_schema, null, 2) : '' }), { wide: true }),
    ], async (form, value) => {
      const schema = parseJson(form.elements.namedItem('config_schema').value);
      if (schema.error) return showFieldErrors(form, { config_schema: [schema.error] });
      const body = {
        name: value('name'), emoji: value('emoji') || null, category: value('category'), route_path: value('route_path') || null,
        status: value('status'), module_scope: value('module_scope'), is_enabled: form.elements.namedItem('is_enabled').checked,
        description: value('description') || null, config_schema: schema.value,
      };
      const before = tool.route_path;
      tool = await api(toolUrl(), { method: 'PUT', body });
      if (tool.route_path !== before) {
        // The page lives at the tool's route: follow it, or go back to the grid when it has none.
        location.assign(tool.route_path || `/settings#${encodeURIComponent(tool.category)}`);
        return;
      }
      renderTool();
      document.getElementById('admin-controls').status.value = tool.status;
      document.getElementById('toggle-enabled').textContent = tool.is_enabled ? 'Disable tool' : 'Enable tool';
      notify(`Saved ${tool.name}.`);
      return true;
    });
    form.elements.namedItem('name').focus();
  }

  async function deleteTool() {
    if (!await confirmDialog(`Delete ${tool.name}?`, {
      detail: instances.length || plugins.length
        ? `It still has ${instances.length} instance(s) and ${plugins.length} plugin(s): the server refuses until they are deleted.`
        : 'Its card leaves the grid and its page address stops working.',
      yes: 'Delete', danger: true,
    })) return;
    try {
      await api(toolUrl(), { method: 'DELETE' });
      location.assign(`/settings#${encodeURIComponent(tool.category)}`);
    } catch { /* shown in the notice bar */ }
  }

  // ----- Instances -----
  async function loadInstances() {
    instances = await table('instances', `${toolUrl()}/instances`, ['Name', 'Agent', 'Status', 'Active', 'Last run', 'Next run'],
      i => [i.name || `#${i.id}`, i.agent_id ? agentName(i.agent_id) : 'Global', badge(i.status), yesNo(i.is_active), formatTime(i.last_run), formatTime(i.next_run)],
      'This tool has no instances.', i => rowActions(i.name || `#${i.id}`, () => instanceForm(i), async () => {
        await api(`${toolUrl()}/instances/${i.id}`, { method: 'DELETE' });
        await loadInstances();
        await loadConfigurations();
      }, 'Its configurations go with it.'));
  }

  function instanceForm(instance) {
    const agentChoices = [['', tool.module_scope === 'agent' ? '(choose an agent)' : 'Global (no agent)'], ...agents.map(a => [a.id, a.display_name || a.name])];
    const schemaHint = tool.config_schema
      ? el('details', { class: 'hint' }, el('summary', { text: 'The tool’s config schema' }), el('pre', { class: 'schema mono', text: JSON.stringify(tool.config_schema, null, 2) }))
      : null;
    const check = instance?.health_check ?? null;
    const form = editor('instances-form', instance ? `Edit instance ${instance.name || '#' + instance.id}` : 'Add an instance', [
      formField('Name', el('input', { type: 'text', name: 'name', maxLength: 100, value: instance?.name ?? '' })),
      formField('Agent', selectOf('agent_id', agentChoices, instance?.agent_id ?? '')),
      formField('Status', selectOf('status', statuses, instance?.status ?? 'Ready'),
        { hint: 'Set by hand: with a health check, the check sets it instead.' }),
      toggleField('Active', 'is_active', instance?.is_active ?? true),
      el('div', { class: 'field wide' },
        el('label', { for: 'instance-config', text: 'Config (a JSON object)' }),
        el('textarea', { id: 'instance-config', name: 'config', class: 'mono', rows: 6, spellcheck: false,
          value: instance?.config ? JSON.stringify(instance.config, null, 2) : '{}' }),
        schemaHint,
        el('div', { class: 'error', 'data-error-for': 'config' })),
      healthCheckFields(instance, check),
    ], async (form, value) => {
      const config = parseJson(form.elements.namedItem('config').value, {});
      if (config.error || typeof config.value !== 'object' || Array.isArray(config.value) || config.value === null)
        return showFieldErrors(form, { config: [config.error || 'The config must be a JSON object, like {"key": "value"}.'] });
      const body = { name: value('name') || null, is_active: form.elements.namedItem('is_active').checked, config: config.value };
      // A status typed by hand is sent only when it changed, so saving other fields leaves a check's status alone.
      if (!instance || value('status') !== instance.status) body.status = value('status');
      if (value('agent_id')) body.agent_id = value('agent_id');
      const type = value('check_type');
      if (type) {
        body.health_check = { type, target: value('check_target') };
        if (value('check_interval')) body.health_check.interval_seconds = Number(value('check_interval'));
        if (value('check_timeout')) body.health_check.timeout_ms = Number(value('check_timeout'));
        if (type === 'http' && value('check_expect')) body.health_check.expect_status = Number(value('check_expect'));
      } else if (check) body.health_check = null;
      if (instance) await api(`${toolUrl()}/instances/${instance.id}`, { method: 'PATCH', body });
      else await api(`${toolUrl()}/instances`, { method: 'POST', body });
      await loadInstances();
      await loadConfigurations();
      notify(instance ? 'Saved the instance.' : 'Added the instance.');
      return true;
    }, {
      agent_id: 'agent_id', health_check: 'check_type', 'health_check.type': 'check_type', 'health_check.target': 'check_target',
      'health_check.interval_seconds': 'check_interval', 'health_check.timeout_ms': 'check_timeout', 'health_check.expect_status': 'check_expect',
    });
    form.elements.namedItem('name').focus();
  }

  /** The instance's health check as fields, with "Check now" and the last result for a saved instance. */
  function healthCheckFields(instance, check) {
    const type = selectOf('check_type', [['', 'No check (status set by hand)'], ['http', 'HTTP GET'], ['tcp', 'TCP connect']], check?.type ?? '');
    const target = el('input', { type: 'text', name: 'check_target', maxLength: 2000, spellcheck: false, value: check?.target ?? '',
      placeholder: 'http://127.0.0.1:8080/health or host:port' });
    const interval = el('input', { type: 'number', name: 'check_interval', min: 10, max: 86400, step: 1, value: check?.interval_seconds ?? '', placeholder: '60' });
    const timeout = el('input', { type: 'number', name: 'check_timeout', min: 50, max: 60000, step: 1, value: check?.timeout_ms ?? '', placeholder: '5000' });
    const expect = el('input', { type: 'number', name: 'check_expect', min: 100, max: 599, step: 1, value: check?.expect_status ?? '', placeholder: 'any 2xx or 3xx' });
    const result = el('div', { class: 'small', 'data-testid': 'check-result', role: 'status' });
    const showResult = i => {
      result.textContent = !i?.last_check_at ? 'Not checked yet.'
        : `Last check ${formatTime(i.last_check_at)}: ${i.last_check_ok ? 'OK' : 'failed'}`
          + (i.last_check_latency_ms != null ? ` in ${i.last_check_latency_ms} ms` : '') + (i.last_check_error ? ` (${i.last_check_error})` : '');
    };
    showResult(instance);
    const sync = () => {
      for (const input of [target, interval, timeout]) input.disabled = !type.value;
      expect.disabled = type.value !== 'http';
    };
    type.addEventListener('change', sync);
    sync();
    const checkNow = instance && check
      ? el('button', { type: 'button', class: 'small', 'data-testid': 'check-now', text: 'Check now', onclick: event => busy(event.currentTarget, async () => {
          try {
            const run = await api(`${toolUrl()}/instances/${instance.id}/check`, { method: 'POST' });
            showResult(run.instance);
            await loadInstances();
          } catch { /* shown in the notice bar */ }
        }) })
      : null;
    return el('fieldset', { class: 'field wide' }, el('legend', { text: 'Health check' }),
      el('div', { class: 'grid-2' },
        formField('Type', type),
        formField('Target', target, { hint: 'A URL for HTTP, host:port for TCP.' }),
        formField('Every (seconds)', interval, { hint: '10 to 86400; 60 when empty.' }),
        formField('Timeout (ms)', timeout, { hint: '50 to 60000; 5000 when empty.' }),
        formField('Expected HTTP status', expect, { hint: 'Empty: any 2xx or 3xx.' })),
      el('div', { class: 'actions' }, checkNow, instance ? result : el('span', { class: 'dim small', text: 'Save the instance to check it.' })));
  }

  // ----- Plugins -----
  async function loadPlugins() {
    plugins = await table('plugins', `${toolUrl()}/plugins`, ['Name', 'Version', 'Status', 'Enabled', 'Depends on'],
      p => [p.name, p.version || '—', p.status || '—', yesNo(p.is_enabled), (p.dependencies || []).join(', ') || '—'],
      'This tool has no plugins.', p => rowActions(p.name, () => pluginForm(p), async () => {
        await api(`${toolUrl()}/plugins/${p.id}`, { method: 'DELETE' });
        await loadPlugins();
      }, 'The server refuses while another plugin depends on it.'));
  }

  function pluginForm(plugin) {
    const others = plugins.filter(p => !plugin || p.id !== plugin.id);
    const chosen = new Set(plugin?.dependencies ?? []);
    const form = editor('plugins-form', plugin ? `Edit plugin ${plugin.name}` : 'Add a plugin', [
      formField('Name', el('input', { type: 'text', name: 'name', maxLength: 100, value: plugin?.name ?? '' })),
      formField('Version', el('input', { type: 'text', name: 'version', maxLength: 50, value: plugin?.version ?? '' })),
      formField('Status', selectOf('status', pluginStatuses, plugin?.status ?? 'Inactive')),
      toggleField('Enabled', 'is_enabled', plugin?.is_enabled ?? true),
      el('fieldset', { class: 'field wide' }, el('legend', { text: 'Depends on (other plugins of this tool)' }),
        others.length
          ? el('div', { class: 'checks' }, others.map(p => el('label', {},
              el('input', { type: 'checkbox', name: 'dependencies', value: p.name, checked: chosen.has(p.name) }), ' ', p.name)))
          : el('p', { class: 'dim small', text: 'No other plugins yet.' }),
        el('div', { class: 'error', 'data-error-for': 'dependencies' })),
      formField('Config (a JSON object)', el('textarea', { name: 'config', class: 'mono', rows: 4, spellcheck: false,
        value: plugin?.config ? JSON.stringify(plugin.config, null, 2) : '{}' }), { wide: true }),
    ], async (form, value) => {
      const config = parseJson(form.elements.namedItem('config').value, {});
      if (config.error || typeof config.value !== 'object' || Array.isArray(config.value) || config.value === null)
        return showFieldErrors(form, { config: [config.error || 'The config must be a JSON object.'] });
      const body = {
        name: value('name'), version: value('version'), status: value('status'), is_enabled: form.elements.namedItem('is_enabled').checked,
        dependencies: [...form.querySelectorAll('[name=dependencies]:checked')].map(box => box.value), config: config.value,
      };
      if (plugin) await api(`${toolUrl()}/plugins/${plugin.id}`, { method: 'PATCH', body });
      else await api(`${toolUrl()}/plugins`, { method: 'POST', body });
      await loadPlugins();
      notify(plugin ? `Saved plugin ${body.name}.` : `Added plugin ${body.name}.`);
      return true;
    });
    form.elements.namedItem('name').focus();
  }

  // ----- Configurations, one scope at a time: the tool itself or one of its instances -----
  async function loadConfigurations() {
    const scopes = [[`tool:${tool.id}`, `This tool (${tool.id})`], ...instances.map(i => [`instance:${i.id}`, `Instance ${i.name || '#' + i.id}`])];
    if (!scopes.some(([key]) => key === configScope)) configScope = scopes[0][0];
    const picker = selectOf('scope', scopes, configScope);
    picker.setAttribute('aria-label', 'Scope');
    picker.addEventListener('change', () => { configScope = picker.value; document.getElementById('configurations-form').replaceChildren(); loadConfigurations().catch(reportError); });
    const actions = document.getElementById('configurations-actions');
    actions.querySelector('select')?.remove();
    actions.prepend(picker);
    const [scope, scopeId] = split(configScope);
    await table('configurations', `/api/configurations?scope=${scope}&scope_id=${encodeURIComponent(scopeId)}`, ['Key', 'Value', 'Type', 'Description'],
      c => [el('code', { text: c.key }), c.is_encrypted ? (c.value ? '********' : '(not set)') : display(c.value), c.type, c.description || ''],
      scope === 'tool' ? 'No configuration is set for this tool.' : 'No configuration is set for this instance.',
      c => rowActions(c.key, () => configurationForm(c), async () => {
        await api(configUrl(c.key), { method: 'DELETE' });
        await loadConfigurations();
      }, '', historyButton(configUrl(c.key), c.key, loadConfigurations)));
  }

  function configUrl(key) {
    const [scope, scopeId] = split(configScope);
    return `/api/configurations/${scope}/${encodeURIComponent(scopeId)}/${encodeURIComponent(key)}`;
  }

  function configurationForm(entry) {
    const secret = entry?.is_encrypted;
    const form = editor('configurations-form', entry ? `Edit ${entry.key}` : 'Add a setting', [
      formField('Key', el('input', { type: 'text', name: 'key', maxLength: 100, value: entry?.key ?? '', readOnly: Boolean(entry), spellcheck: false })),
      formField('Type', selectOf('type', configTypes, entry?.type ?? 'string')),
      formField('Value', el('textarea', { name: 'value', rows: 2, spellcheck: false, value: secret ? entry.value ?? '' : display(entry?.value ?? '', '') }),
        { wide: true, hint: secret ? 'A secret: leave ******** to keep it, or type a new value to replace it.' : '' }),
      formField('Description', el('input', { type: 'text', name: 'description', maxLength: 500, value: entry?.description ?? '' })),
      toggleField('Secret (encrypted, masked when read)', 'is_encrypted', secret ?? false, { disabled: Boolean(secret) }),
    ], async (form, value) => {
      const key = value('key');
      if (!key) return showFieldErrors(form, { key: ['A key is required.'] });
      const raw = form.elements.namedItem('value').value;
      if (secret && !raw && !await confirmDialog(`Replace the secret ${key} with an empty value?`, { yes: 'Replace', danger: true })) return;
      const body = { value: raw, type: value('type'), description: value('description'), is_encrypted: form.elements.namedItem('is_encrypted').checked };
      await api(configUrl(key), { method: 'PUT', body });
      await loadConfigurations();
      notify(`Saved ${key}.`);
      return true;
    });
    form.elements.namedItem(entry ? 'value' : 'key').focus();
  }

  // ----- Shared pieces of this page -----
  function addButton(section, text, onclick) {
    document.getElementById(`${section}-actions`).append(el('button', { type: 'button', class: 'small primary', 'data-testid': `add-${section}`, text, onclick }));
  }

  /** A create/edit form in the section's form box. submit(form, value) returns true when done (the form closes). */
  function editor(boxId, title, fields, submit, rename = {}) {
    const box = document.getElementById(boxId);
    const close = () => box.replaceChildren();
    const form = el('form', { class: 'editor inset', noValidate: true },
      el('h3', { text: title }),
      el('div', { class: 'grid-2' }, fields),
      el('div', { class: 'actions' },
        el('button', { type: 'submit', class: 'primary', 'data-testid': 'save', text: 'Save' }),
        el('button', { type: 'button', 'data-testid': 'cancel', text: 'Cancel', onclick: close })));
    const value = name => { const input = form.elements.namedItem(name); return input.value.trim(); };
    form.addEventListener('submit', async event => {
      event.preventDefault();
      clearErrors(form);
      await busy(form.querySelector('[type=submit]'), async () => {
        try {
          if (await submit(form, value) === true) close();
        } catch (error) {
          // A conflict (taken name, one instance per agent) has no field; it shows in the notice bar.
          showFieldErrors(form, error.errors, rename);
        }
      });
    });
    box.replaceChildren(form);
    form.scrollIntoView({ block: 'nearest' });
    return form;
  }

  function rowActions(label, edit, remove, consequence = '', ...more) {
    if (!admin) return null;
    return el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'small', 'data-action': 'edit', text: 'Edit', onclick: edit }),
      ...more,
      el('button', { type: 'button', class: 'small danger', 'data-action': 'delete', text: 'Delete', onclick: async () => {
        if (!await confirmDialog(`Delete ${label}?`, { detail: consequence, yes: 'Delete', danger: true })) return;
        try { await remove(); notify(`Deleted ${label}.`); } catch { /* shown in the notice bar */ }
      } }));
  }

  async function table(id, url, headings, cells, emptyText, actions) {
    const box = document.getElementById(id);
    try {
      const body = await api(url, { quiet: true });
      const rows = Array.isArray(body) ? body : body?.items ?? [];
      box.replaceChildren(rows.length === 0
        ? el('p', { class: 'dim', text: emptyText })
        : el('div', { class: 'table-wrap' }, el('table', { class: 'stack-narrow' },
            el('thead', {}, el('tr', {}, headings.map(h => el('th', { text: h })), admin ? el('th', { text: '' }) : null)),
            el('tbody', {}, rows.map(row => el('tr', { 'data-id': String(row.id ?? '') },
              cells(row).map(c => el('td', {}, c)), admin ? el('td', {}, actions(row)) : null))))));
      return rows;
    } catch (error) {
      if (error.redirecting) throw error;
      box.replaceChildren(el('p', { class: 'dim', text: `Not available: ${error.message}` }));
      return [];
    }
  }
}

function toggleField(label, name, checked, { disabled = false } = {}) {
  return el('div', { class: 'field' },
    el('label', { class: 'toggle' }, el('input', { type: 'checkbox', name, checked, disabled }), ' ', label),
    el('div', { class: 'error', 'data-error-for': name }));
}

function split(scopeKey) {
  const at = scopeKey.indexOf(':');
  return [scopeKey.slice(0, at), scopeKey.slice(at + 1)];
}

function yesNo(value) {
  return value ? 'Yes' : 'No';
}

function display(value, empty = '—') {
  if (value == null || value === '') return empty;
  return typeof value === 'string' ? value : JSON.stringify(value);
}
