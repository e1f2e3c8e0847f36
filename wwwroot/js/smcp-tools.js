// /smcp-tools: the catalogue of every SMCP server's tools (GET /api/smcp/tools), filtered by text and server; a tool's
// detail shows its input schema as a table and, for admins, a form generated from that schema that runs the tool
// (POST /api/smcp/tools/{name}/call) and shows what it returned. Refresh lists every server again.
import { api, notify } from './api.js';
import { el, startPage, isAdmin, badge, formatTime, formatAge, busy, clearErrors, showFieldErrors, reportError, parseJson } from './ui.js';

const $ = id => document.getElementById(id);
let me, tools = [], servers = new Map(), open = null;

me = await startPage();
if (me) await main().catch(reportError);

async function main() {
  if (isAdmin(me)) {
    const refresh = el('button', { type: 'button', class: 'small primary', 'data-testid': 'refresh-tools', text: 'Refresh' });
    refresh.addEventListener('click', () => busy(refresh, async () => {
      const report = await api('/api/smcp/tools/refresh', { method: 'POST' });
      const failed = report.results.filter(r => !r.ok);
      notify(failed.length ? `${failed.length} of ${report.results.length} server(s) could not be listed: ${failed.map(f => f.error).join('; ')}` : `Listed ${report.items.length} tool(s).`,
        failed.length ? 'error' : 'ok');
      await load();
    }).catch(reportError));
    $('head-actions').prepend(refresh);
  } else {
    $('plugins-link').hidden = true;
  }
  $('search').addEventListener('input', render);
  $('server-filter').addEventListener('change', render);
  $('filters').addEventListener('submit', event => event.preventDefault());
  $('detail-close').addEventListener('click', () => { open = null; $('detail').hidden = true; });
  $('run-form').addEventListener('submit', event => { event.preventDefault(); run(event.submitter).catch(reportError); });
  await load();
}

async function load() {
  const [instances, catalogue] = await Promise.all([api('/api/tools/smcp/instances'), api('/api/smcp/tools')]);
  servers = new Map(instances.map(i => [i.id, i]));
  tools = catalogue.items;
  const chosen = $('server-filter').value;
  $('server-filter').replaceChildren(el('option', { value: '', text: 'All' }),
    ...instances.map(i => el('option', { value: String(i.id), text: serverName(i.id) })));
  $('server-filter').value = servers.has(Number(chosen)) ? chosen : '';
  $('servers').replaceChildren(...(instances.length ? instances.map(i => el('span', { class: 'chip', 'data-server-id': String(i.id) },
    el('strong', { text: serverName(i.id) }), ' ', badge(i.is_active ? i.status : 'Off'),
    el('span', { class: 'dim small', text: ` ${tools.filter(t => t.instance_id === i.id).length} tool(s)` })))
    : [el('p', { class: 'dim', text: isAdmin(me) ? 'No SMCP server yet: add one under Servers (its url, and its key if it has one).' : 'No SMCP server yet.' })]));
  render();
}

function serverName(id) {
  const server = servers.get(id);
  return server ? server.name || `Instance ${id}` : `Instance ${id}`;
}

function render() {
  const text = $('search').value.trim().toLowerCase();
  const server = $('server-filter').value;
  const shown = tools.filter(t => (!server || String(t.instance_id) === server)
    && (!text || [t.name, t.description, t.plugin].some(v => v && v.toLowerCase().includes(text))));
  $('tool-rows').replaceChildren(...shown.map(row));
  $('none').hidden = shown.length > 0;
  $('none').textContent = tools.length ? 'No tool matches.' : 'No tools listed yet: a server is listed by its health check or by Refresh.';
}

function row(tool) {
  const details = el('button', { type: 'button', class: 'small', 'data-action': 'details', text: 'Details', onclick: () => showDetail(tool) });
  return el('tr', { 'data-tool': tool.name, 'data-instance-id': String(tool.instance_id) },
    el('td', { 'data-label': 'Tool' }, el('code', { text: tool.name })),
    el('td', { 'data-label': 'Plugin', text: tool.plugin ?? '—' }),
    el('td', { 'data-label': 'Server', text: serverName(tool.instance_id) }),
    el('td', { 'data-label': 'Description', text: tool.description ?? '' }),
    el('td', { 'data-label': 'Listed', title: formatTime(tool.listed_at) }, formatAge(tool.listed_at),
      tool.stale ? el('span', { class: 'badge status-Degraded', 'data-testid': 'stale', title: 'The last listing of this server failed: this is what it offered before.', text: 'stale' }) : null),
    el('td', {}, details));
}

// ---- one tool: its schema as a table, and a form built from it ----

const properties = schema => Object.entries(schema?.properties ?? {});
const typeOf = spec => [].concat(spec?.type ?? (spec?.enum ? 'enum' : 'any')).join(' | ');

function allowed(spec) {
  const parts = [];
  if (spec.enum) parts.push(spec.enum.map(v => JSON.stringify(v)).join(', '));
  for (const [key, text] of [['minimum', '≥'], ['maximum', '≤'], ['minLength', 'length ≥'], ['maxLength', 'length ≤'], ['pattern', 'matches']])
    if (spec[key] != null) parts.push(`${text} ${spec[key]}`);
  if (spec.default !== undefined) parts.push(`default ${JSON.stringify(spec.default)}`);
  return parts.join('; ');
}

function showDetail(tool) {
  open = tool;
  const schema = tool.input_schema ?? {};
  const required = new Set(schema.required ?? []);
  $('detail-name').textContent = tool.name;
  $('detail-description').textContent = `${tool.description ?? ''} (on ${serverName(tool.instance_id)})`;
  $('schema-rows').replaceChildren(...(properties(schema).length ? properties(schema).map(([name, spec]) => el('tr', { 'data-argument': name },
    el('td', {}, el('code', { text: name })), el('td', { text: typeOf(spec) }), el('td', { text: required.has(name) ? 'yes' : 'no' }),
    el('td', { text: spec.description ?? '' }), el('td', { text: allowed(spec) })))
    : [el('tr', {}, el('td', { colspan: 5, class: 'dim', text: 'This tool takes no arguments.' }))]));
  $('result').hidden = true;
  const form = $('run-form');
  clearErrors(form);
  form.hidden = !isAdmin(me);
  if (isAdmin(me)) $('run-fields').replaceChildren(...properties(schema).map(([name, spec]) => field(name, spec, required.has(name))));
  $('detail').hidden = false;
  $('detail').scrollIntoView({ block: 'start' });
}

// A control per argument: its name is the argument's JSON Pointer under arguments, where the server puts its errors.
function field(name, spec, required) {
  const key = `arguments/${name}`;
  const type = [].concat(spec.type ?? [])[0];
  const id = `arg-${name}`.replace(/[^A-Za-z0-9_-]/g, '_');
  let control;
  if (spec.enum) control = el('select', { id, name: key }, required ? null : el('option', { value: '', text: '—' }),
    spec.enum.map(v => el('option', { value: JSON.stringify(v), text: String(v) })));
  else if (type === 'boolean') control = el('select', { id, name: key }, required ? null : el('option', { value: '', text: '—' }),
    el('option', { value: 'true', text: 'true' }), el('option', { value: 'false', text: 'false' }));
  else if (type === 'number' || type === 'integer') control = el('input', { id, name: key, type: 'number', step: type === 'integer' ? '1' : 'any', inputmode: 'decimal' });
  else if (type === 'string') control = el('input', { id, name: key, type: 'text', autocomplete: 'off', spellcheck: false });
  else control = el('textarea', { id, name: key, rows: 3, class: 'mono', placeholder: 'JSON', spellcheck: false });
  control.dataset.kind = spec.enum ? 'enum' : type === 'boolean' ? 'boolean' : type === 'number' || type === 'integer' ? 'number' : type === 'string' ? 'string' : 'json';
  if (spec.default !== undefined && control.dataset.kind !== 'json') control.value = control.dataset.kind === 'enum' ? JSON.stringify(spec.default) : String(spec.default);
  return el('div', { class: 'field' },
    el('label', { for: id }, name, required ? ' *' : ''), control,
    spec.description ? el('div', { class: 'hint', text: spec.description }) : null,
    el('div', { class: 'error', 'data-error-for': key }));
}

// The arguments the form holds; an empty optional field is left out. Returns {args} or {errors} for the form.
function argumentsOf(form) {
  const args = {}, errors = {};
  for (const control of form.querySelectorAll('[name^="arguments/"]')) {
    const name = control.name.slice('arguments/'.length), text = control.value;
    if (text === '') continue;
    if (control.dataset.kind === 'number') args[name] = Number(text);
    else if (control.dataset.kind === 'boolean') args[name] = text === 'true';
    else if (control.dataset.kind === 'enum') args[name] = JSON.parse(text);
    else if (control.dataset.kind === 'json') {
      const parsed = parseJson(text);
      if (parsed.error) errors[control.name] = [parsed.error]; else args[name] = parsed.value;
    } else args[name] = text;
  }
  return Object.keys(errors).length ? { errors } : { args };
}

async function run(button) {
  const form = $('run-form'), tool = open;
  clearErrors(form);
  const { args, errors } = argumentsOf(form);
  if (errors) { showFieldErrors(form, errors); return; }
  await busy(button, async () => {
    try {
      const result = await api(`/api/smcp/tools/${encodeURIComponent(tool.name)}/call`, { method: 'POST', body: { arguments: args, instance_id: tool.instance_id } });
      showResult(result);
    } catch (error) {
      if (error.errors) showFieldErrors(form, error.errors);
      throw error;
    }
  });
}

function showResult(result) {
  const box = $('result');
  box.replaceChildren(
    el('p', { 'data-testid': 'result-outcome', class: result.is_error ? 'verdict-bad' : 'verdict-ok',
      text: `${result.is_error ? 'The tool reported an error' : 'Done'} in ${result.duration_ms} ms.` }),
    ...[].concat(result.content ?? []).map(block => block.type === 'text'
      ? el('pre', { class: 'mono', 'data-testid': 'result-text', text: block.text })
      : block.type === 'image' || block.type === 'audio'
        ? el('p', { class: 'dim', text: `[${block.type}, ${block.mimeType ?? 'unknown type'}, ${Math.round((block.data?.length ?? 0) * 3 / 4)} bytes]` })
        : el('pre', { class: 'mono', text: JSON.stringify(block, null, 2) })));
  box.hidden = false;
}
