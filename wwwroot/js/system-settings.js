// /system-settings: system_config grouped by category with an input fitting each type and the catalogue's
// constraints (GET /api/config/schema), who reads each value, secrets masked with Reveal and Replace; saves send
// If-Match so an admin never silently overwrites another's change; the environment variables table (secrets
// revealed on request). Enter in a value saves that row; each row says next to itself whether it was saved;
// leaving with unsaved edits, or replacing a secret with an empty value, asks first. The Letta section tests the
// connection (POST /api/letta/test) and shows the last success.
import { api, notify } from './api.js';
import { live } from './live.js';
import { el, startPage, clearErrors, showFieldErrors, busy, confirmInline, confirmDialog, guardUnsaved, reportError, formatTime } from './ui.js';
import { historyButton } from './setting-history.js';

// Rows with edits not yet saved, by key (config) or name (env): what the leave guard asks about.
const unsaved = new Set();
const me = await startPage({ adminOnly: true });
if (me) {
  guardUnsaved(() => unsaved.size > 0);
  showConfig().catch(error => failed('config', error));
  showEnv().catch(error => failed('env', error));
}

function failed(id, error) {
  reportError(error);
  const box = document.getElementById(id);
  const text = el('p', { class: 'dim', text: `Could not load this part: ${error.message}` });
  box.replaceChildren(box.tagName === 'TBODY' ? el('tr', {}, el('td', { colSpan: 4 }, text)) : text);
}

function title(text) {
  return text.charAt(0).toUpperCase() + text.slice(1).replace(/_/g, ' ');
}

async function showConfig() {
  const box = document.getElementById('config');
  const [entries, schema] = await Promise.all([api('/api/config'), api('/api/config/schema')]);
  const specs = new Map(schema.map(spec => [spec.key, spec]));
  const categories = [...new Set(entries.map(e => e.category || 'general'))];
  box.replaceChildren(...categories.map(category => el('section', { class: 'panel', 'data-category': category },
    el('h2', { text: title(category) }),
    entries.filter(e => (e.category || 'general') === category).map(entry => configRow(entry, specs.get(entry.key))))));
  const letta = box.querySelector('[data-category=letta]');
  if (letta) lettaConnection(letta).catch(reportError);
}

/** The Letta section's "Test connection": /v1/health/ with the saved settings, and the last success kept. */
async function lettaConnection(section) {
  const line = el('p', { class: 'dim small', 'data-testid': 'letta-status', role: 'status' });
  const show = s => {
    if (!s.configured) line.textContent = 'Set letta_server_url to test the connection.';
    else if (!s.last_checked_at) line.textContent = 'Not tested yet.';
    else line.textContent = (s.last_ok ? `Connected: Letta ${s.version || ''} answered in ${s.latency_ms} ms.` : `Failed: ${s.error}.`)
      + (s.last_success_at ? ` Last success ${formatTime(s.last_success_at)}.` : ' Never succeeded.');
  };
  const button = el('button', { type: 'button', class: 'small', 'data-testid': 'letta-test', text: 'Test connection', onclick: () => busy(button, async () => {
    try { show(await api('/api/letta/test', { method: 'POST' })); } catch { /* shown in the notice bar */ }
  }) });
  section.append(el('div', { class: 'actions' }, button, line));
  show(await api('/api/letta/status'));
}

/** Who reads a setting, from the catalogue: this service (takes effect here) or another component. */
function readBy(spec) {
  if (!spec) return null;
  const here = spec.read_by.includes('sanctum-api');
  const others = spec.read_by.filter(name => name !== 'sanctum-api');
  const text = here
    ? `Takes effect in Sanctum${others.length ? `; also read by ${others.join(', ')}` : ''}.`
    : `Read by ${others.join(', ')}; Sanctum only stores it.`;
  return el('div', { class: 'dim small', 'data-read-by': spec.key, text: spec.note ? `${text} ${spec.note}` : text });
}

/** The input a value's type and the catalogue's constraints call for. */
function valueInput(entry, spec) {
  const key = entry.key;
  const common = { name: key, 'data-config-key': key, 'aria-label': key };
  if (entry.type === 'boolean') return el('input', { ...common, type: 'checkbox', checked: entry.value === true });
  if (entry.type === 'json') {
    return el('textarea', { ...common, class: 'mono', rows: 3, spellcheck: false,
      value: entry.value == null ? '' : JSON.stringify(entry.value, null, 2) });
  }
  if (spec && spec.values) {
    return el('select', common, spec.values.map(v => el('option', { value: v, text: v, selected: v === entry.value })));
  }
  if (entry.type === 'number') {
    return el('input', { ...common, type: 'number', value: entry.value ?? '', min: spec?.minimum ?? null, max: spec?.maximum ?? null,
      step: spec?.integer ? '1' : 'any' });
  }
  return el('input', { ...common, type: spec?.format === 'url' ? 'url' : 'text', value: entry.value ?? '', spellcheck: false });
}

function configRow(entry, spec) {
  const key = entry.key;
  const url = `/api/config/${encodeURIComponent(key)}`;
  const row = el('div', { class: 'config-row', 'data-config-row': key });
  const error = el('div', { class: 'error', 'data-error-for': key });
  const mark = savedMark(key);
  const save = el('button', { type: 'button', class: 'small primary', 'data-action': 'save', text: 'Save' });
  const actions = el('div', { class: 'actions' });
  // The version this page last saw: saves send it as If-Match, so a change made meanwhile is not overwritten.
  let version = entry.version;
  let input;

  if (entry.is_encrypted) {
    let stored = entry.value; // the mask, '' when no secret is set, or 'unreadable'
    input = el('input', { type: 'password', name: key, readOnly: true, value: '', autocomplete: 'off', 'data-config-key': key, 'aria-label': key });
    const reveal = el('button', { type: 'button', class: 'small', 'data-action': 'reveal', text: 'Reveal' });
    const replace = el('button', { type: 'button', class: 'small', 'data-action': 'replace', text: 'Replace' });
    let revealed = false;
    const mask = () => {
      input.type = 'password'; input.value = ''; input.readOnly = true; revealed = false;
      input.placeholder = stored === 'unreadable' ? 'unreadable: set it again' : stored ? '•••••••• (set)' : '(not set)';
      reveal.textContent = 'Reveal'; save.hidden = true; replace.hidden = false;
      reveal.hidden = !stored || stored === 'unreadable'; // nothing stored, nothing to reveal
      unsaved.delete(key);
    };
    reveal.addEventListener('click', async () => {
      if (revealed) { mask(); return; }
      await busy(reveal, async () => {
        try {
          const secret = await api(`${url}?reveal=true`);
          mask();
          input.type = 'text'; input.value = secret.value ?? ''; revealed = true;
        } catch { /* shown in the notice bar */ }
      });
      reveal.textContent = revealed ? 'Hide' : 'Reveal';
    });
    input.addEventListener('input', () => { unsaved.add(key); mark.textContent = ''; });
    replace.addEventListener('click', () => {
      input.type = 'password'; input.readOnly = false; input.value = ''; input.placeholder = 'New value';
      revealed = false; save.hidden = false; replace.hidden = true; reveal.textContent = 'Reveal'; input.focus();
    });
    mask();
    actions.append(reveal, replace, save);
    save.addEventListener('click', async () => {
      if (input.value === '' && stored && !await confirmDialog(`Replace the secret ${key} with an empty value?`, {
        detail: 'The stored secret is overwritten; whatever reads it gets an empty value.', yes: 'Replace with empty', danger: true, within: row,
      })) return;
      await store(input.value, saved => { stored = saved; mask(); });
    });
  } else {
    input = valueInput(entry, spec);
    actions.append(save);
    const current = () => entry.type === 'boolean' ? input.checked : input.value;
    let saved = String(current());
    input.addEventListener(entry.type === 'boolean' || input.tagName === 'SELECT' ? 'change' : 'input', () => {
      if (String(current()) === saved) unsaved.delete(key); else unsaved.add(key);
      mark.textContent = '';
    });
    save.addEventListener('click', () => store(current(), () => { saved = String(current()); unsaved.delete(key); }));
  }
  // Enter in a one-line value saves that row (a JSON text area keeps Enter for new lines).
  input.addEventListener('keydown', event => {
    if (event.key !== 'Enter' || event.isComposing || input.tagName === 'TEXTAREA' || input.readOnly || save.hidden) return;
    event.preventDefault();
    save.click();
  });

  // After a rollback the row is drawn again from what is stored now.
  actions.append(historyButton(url, key, async () => { unsaved.delete(key); row.replaceWith(configRow(await api(url), spec)); }));

  const valueCell = entry.type === 'boolean' && !entry.is_encrypted
    ? el('div', {}, el('label', { class: 'toggle' }, input, el('span', { text: 'On' })), error, mark)
    : el('div', {}, input, error, mark);
  const range = spec && spec.minimum != null && spec.maximum != null ? ` · ${spec.minimum} to ${spec.maximum}${spec.unit ? ' ' + spec.unit : ''}` : '';
  row.append(
    el('div', {}, el('div', { class: 'key', text: key }), el('div', { class: 'dim small', text: entry.description || '' }),
      el('div', { class: 'dim small', text: `${spec?.format ?? entry.type}${range}` }), readBy(spec)),
    valueCell,
    actions);
  return row;

  function store(value, after) {
    clearErrors(row);
    return busy(save, async () => {
      try {
        const saved = await api(url, { method: 'PUT', body: { value }, headers: { 'If-Match': `"${version}"` }, quiet: true });
        version = saved.version;
        notify(`Saved ${key}.`);
        showSaved(mark, 'Saved', 'saved');
        after(saved.value);
      } catch (failure) {
        if (failure.status === 412) return conflict();
        if (failure.redirecting) return;
        const messages = Object.values(failure.errors || {}).flat();
        showFieldErrors(row, { [key]: messages.length ? messages : [failure.message] });
        error.append(el('span', { class: 'dim', text: ' Not saved: the stored value is unchanged.' }));
        showSaved(mark, 'Not saved', 'failed');
      }
    });
  }

  // Someone else saved this setting after the page loaded: say so, show theirs, and let a second Save replace it knowingly.
  async function conflict() {
    const current = await api(url, { quiet: true }).catch(() => null);
    if (current) version = current.version;
    const theirs = current == null ? 'it was deleted' : current.is_encrypted ? 'a new secret' : `it is now ${JSON.stringify(current.value)}`;
    showSaved(mark, 'Not saved', 'failed');
    showFieldErrors(row, { [key]: [`Not saved: someone else changed ${key} since this page loaded (${theirs}). Save again to replace it with your value, or reload.`] });
    row.dataset.conflict = 'true';
  }
}

async function showEnv() {
  const tbody = document.getElementById('env');
  const none = document.getElementById('no-env');
  const form = document.getElementById('env-form');
  const field = name => form.elements.namedItem(name);
  let rows = [];

  const load = async () => {
    rows = (await api('/api/config/env')).map(v => ({ ...v, name: v.name ?? v.var_name, value: v.value ?? v.var_value }));
    tbody.replaceChildren(...rows.map(envRow));
    none.hidden = rows.length > 0;
  };

  form.addEventListener('submit', async event => {
    event.preventDefault();
    clearErrors(form);
    const name = field('name').value.trim();
    if (rows.some(r => r.name === name)) {
      showFieldErrors(form, { name: [`${name} exists already: edit it in the table.`] });
      return;
    }
    if (!name) { showFieldErrors(form, { name: ['A name is required.'] }); return; }
    await busy(form.querySelector('[type=submit]'), async () => {
      try {
        await api(`/api/config/env/${encodeURIComponent(name)}`, { method: 'PUT', body: {
          value: field('value').value, description: field('description').value.trim() || null, is_encrypted: field('is_encrypted').checked,
        } });
        form.reset();
        notify(`Added ${name}.`);
        await load();
  // Another admin's save, with who made it (the form is not reloaded under unsaved edits).
  live(['settings'], { 'settings.saved': d => { if (d.by !== me.username) notify(`${d.key} was ${d.action.replace('_', ' ')} by ${d.by ?? 'someone'}.`); } });
      } catch (error) {
        showFieldErrors(form, error.errors, { var_name: 'name', var_value: 'value' });
      }
    });
  });

  await load();

  function envRow(variable) {
    const url = `/api/config/env/${encodeURIComponent(variable.name)}`;
    const tr = el('tr', { 'data-env-name': variable.name });
    const shown = variable.is_encrypted ? (variable.value ? '********' : '(not set)') : variable.value ?? '';
    const valueCell = el('td', { class: 'mono', 'data-testid': 'value', text: shown });
    const view = () => tr.replaceChildren(
      el('td', {}, el('code', { text: variable.name })),
      valueCell,
      el('td', { class: 'hide-narrow dim', text: variable.description || '' }),
      el('td', {}, actions()));
    const actions = () => {
      const box = el('div', { class: 'actions' },
        variable.is_encrypted && variable.value ? el('button', { type: 'button', class: 'small', 'data-action': 'reveal', text: 'Reveal', onclick: reveal }) : null,
        el('button', { type: 'button', class: 'small', 'data-action': 'edit', text: 'Edit', onclick: edit }),
        historyButton(url, variable.name, load),
        el('button', { type: 'button', class: 'small danger', 'data-action': 'delete', text: 'Delete', onclick: () =>
          confirmInline(box, `Delete ${variable.name}?`, async () => {
            try { await api(url, { method: 'DELETE' }); notify(`Deleted ${variable.name}.`); await load(); } catch { /* shown */ }
          }) }));
      return box;
    };
    // An admin may read a secret variable's value; it shows until the page reloads or Hide.
    async function reveal(event) {
      const button = event.currentTarget;
      if (button.textContent === 'Hide') { valueCell.textContent = shown; button.textContent = 'Reveal'; return; }
      await busy(button, async () => {
        try {
          const secret = await api(`${url}?reveal=true`);
          valueCell.textContent = secret.value ?? secret.var_value ?? '';
          button.textContent = 'Hide';
        } catch { /* shown in the notice bar */ }
      });
    }
    const edit = () => {
      const value = el('input', { type: variable.is_encrypted ? 'password' : 'text', name: 'value', value: variable.is_encrypted ? '' : variable.value ?? '',
        placeholder: variable.is_encrypted ? 'New secret value' : '', 'aria-label': `Value of ${variable.name}` });
      const description = el('input', { type: 'text', name: 'description', value: variable.description ?? '', 'aria-label': `Description of ${variable.name}` });
      const save = el('button', { type: 'button', class: 'small primary', 'data-action': 'save', text: 'Save' });
      const mark = savedMark(variable.name);
      for (const input of [value, description]) input.addEventListener('input', () => unsaved.add(`env:${variable.name}`));
      value.addEventListener('keydown', event => { if (event.key === 'Enter' && !event.isComposing) { event.preventDefault(); save.click(); } });
      description.addEventListener('keydown', event => { if (event.key === 'Enter' && !event.isComposing) { event.preventDefault(); save.click(); } });
      save.addEventListener('click', () => busy(save, async () => {
        clearErrors(tr);
        if (variable.is_encrypted && variable.value && value.value === '' && !await confirmDialog(`Replace the secret ${variable.name} with an empty value?`, {
          detail: 'The stored secret is overwritten; whatever reads it gets an empty value.', yes: 'Replace with empty', danger: true, within: tr,
        })) return;
        try {
          await api(url, { method: 'PUT', body: { value: value.value, description: description.value.trim() || null, is_encrypted: !!variable.is_encrypted } });
          unsaved.delete(`env:${variable.name}`);
          notify(`Saved ${variable.name}.`);
          await load();
          const row = tbody.querySelector(`[data-env-name="${CSS.escape(variable.name)}"]`);
          if (row) row.cells[3].append(showSaved(savedMark(variable.name), 'Saved', 'saved'));
        } catch (error) {
          showFieldErrors(tr, error.errors, { var_value: 'value' });
          showSaved(mark, 'Not saved', 'failed');
        }
      }));
      tr.replaceChildren(
        el('td', {}, el('code', { text: variable.name })),
        el('td', {}, value, el('div', { class: 'error', 'data-error-for': 'value' }), mark),
        el('td', { class: 'hide-narrow' }, description, el('div', { class: 'error', 'data-error-for': 'description' })),
        el('td', {}, el('div', { class: 'actions' }, save, el('button', { type: 'button', class: 'small', text: 'Cancel', onclick: () => { unsaved.delete(`env:${variable.name}`); view(); } }))));
      value.focus();
    };
    view();
    return tr;
  }
}

/** The place next to a row's value that says whether its last save worked. */
function savedMark(key) {
  return el('div', { class: 'saved-mark small', 'data-saved-for': key, role: 'status' });
}

function showSaved(mark, text, kind) {
  mark.textContent = text;
  mark.className = `saved-mark small ${kind}`;
  return mark;
}
