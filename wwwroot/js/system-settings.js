// /system-settings: system_config grouped by category with an input fitting each type, secrets masked with
// Reveal and Replace; the environment variables table.
import { api, notify } from './api.js';
import { el, startPage, clearErrors, showFieldErrors, busy, confirmInline, reportError } from './ui.js';

const me = await startPage({ adminOnly: true });
if (me) {
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
  const entries = await api('/api/config');
  const categories = [...new Set(entries.map(e => e.category || 'general'))];
  box.replaceChildren(...categories.map(category => el('section', { class: 'panel', 'data-category': category },
    el('h2', { text: title(category) }),
    entries.filter(e => (e.category || 'general') === category).map(configRow))));
}

function configRow(entry) {
  const key = entry.key;
  const url = `/api/config/${encodeURIComponent(key)}`;
  const row = el('div', { class: 'config-row', 'data-config-row': key });
  const error = el('div', { class: 'error', 'data-error-for': key });
  const save = el('button', { type: 'button', class: 'small primary', 'data-action': 'save', text: 'Save' });
  const actions = el('div', { class: 'actions' });
  let input;

  if (entry.is_encrypted) {
    let stored = entry.value; // the mask, or '' when no secret is set
    input = el('input', { type: 'password', name: key, readOnly: true, value: '', autocomplete: 'off', 'data-config-key': key, 'aria-label': key });
    const reveal = el('button', { type: 'button', class: 'small', 'data-action': 'reveal', text: 'Reveal' });
    const replace = el('button', { type: 'button', class: 'small', 'data-action': 'replace', text: 'Replace' });
    let revealed = false;
    const mask = () => {
      input.type = 'password'; input.value = ''; input.readOnly = true; revealed = false;
      input.placeholder = stored ? '•••••••• (set)' : '(not set)';
      reveal.textContent = 'Reveal'; save.hidden = true; replace.hidden = false;
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
    replace.addEventListener('click', () => {
      input.type = 'password'; input.readOnly = false; input.value = ''; input.placeholder = 'New value';
      revealed = false; save.hidden = false; replace.hidden = true; reveal.textContent = 'Reveal'; input.focus();
    });
    mask();
    actions.append(reveal, replace, save);
    save.addEventListener('click', () => store(input.value, saved => { stored = saved; mask(); }));
  } else {
    if (entry.type === 'boolean') {
      input = el('input', { type: 'checkbox', name: key, checked: entry.value === 'true', 'data-config-key': key });
    } else if (entry.type === 'json') {
      input = el('textarea', { name: key, class: 'mono', rows: 3, value: entry.value ?? '', spellcheck: false, 'data-config-key': key, 'aria-label': key });
    } else {
      input = el('input', { type: 'text', name: key, value: entry.value ?? '', spellcheck: false, 'data-config-key': key, 'aria-label': key,
        inputmode: entry.type === 'number' ? 'decimal' : null });
    }
    actions.append(save);
    save.addEventListener('click', () => store(entry.type === 'boolean' ? String(input.checked) : input.value, () => {}));
  }

  const valueCell = entry.type === 'boolean' && !entry.is_encrypted
    ? el('div', {}, el('label', { class: 'toggle' }, input, el('span', { text: 'On' })), error)
    : el('div', {}, input, error);
  row.append(
    el('div', {}, el('div', { class: 'key', text: key }), el('div', { class: 'dim small', text: entry.description || '' }),
      el('div', { class: 'dim small', text: entry.type })),
    valueCell,
    actions);
  return row;

  function store(value, after) {
    clearErrors(row);
    return busy(save, async () => {
      try {
        const saved = await api(url, { method: 'PUT', body: { value } });
        notify(`Saved ${key}.`);
        after(saved && typeof saved === 'object' ? saved.value : value);
      } catch (failure) {
        const messages = Object.values(failure.errors || {}).flat();
        showFieldErrors(row, { [key]: messages.length ? messages : [failure.message] });
        error.append(el('span', { class: 'dim', text: ' Not saved: the stored value is unchanged.' }));
      }
    });
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
    const view = () => tr.replaceChildren(
      el('td', {}, el('code', { text: variable.name })),
      el('td', { class: 'mono', 'data-testid': 'value', text: shown }),
      el('td', { class: 'hide-narrow dim', text: variable.description || '' }),
      el('td', {}, actions()));
    const actions = () => {
      const box = el('div', { class: 'actions' },
        el('button', { type: 'button', class: 'small', 'data-action': 'edit', text: 'Edit', onclick: edit }),
        el('button', { type: 'button', class: 'small danger', 'data-action': 'delete', text: 'Delete', onclick: () =>
          confirmInline(box, `Delete ${variable.name}?`, async () => {
            try { await api(url, { method: 'DELETE' }); notify(`Deleted ${variable.name}.`); await load(); } catch { /* shown */ }
          }) }));
      return box;
    };
    const edit = () => {
      const value = el('input', { type: variable.is_encrypted ? 'password' : 'text', name: 'value', value: variable.is_encrypted ? '' : variable.value ?? '',
        placeholder: variable.is_encrypted ? 'New secret value' : '', 'aria-label': `Value of ${variable.name}` });
      const description = el('input', { type: 'text', name: 'description', value: variable.description ?? '', 'aria-label': `Description of ${variable.name}` });
      const save = el('button', { type: 'button', class: 'small primary', 'data-action': 'save', text: 'Save' });
      save.addEventListener('click', () => busy(save, async () => {
        clearErrors(tr);
        try {
          await api(url, { method: 'PUT', body: { value: value.value, description: description.value.trim() || null, is_encrypted: !!variable.is_encrypted } });
          notify(`Saved ${variable.name}.`);
          await load();
        } catch (error) {
          showFieldErrors(tr, error.errors, { var_value: 'value' });
        }
      }));
      tr.replaceChildren(
        el('td', {}, el('code', { text: variable.name })),
        el('td', {}, value, el('div', { class: 'error', 'data-error-for': 'value' })),
        el('td', { class: 'hide-narrow' }, description, el('div', { class: 'error', 'data-error-for': 'description' })),
        el('td', {}, el('div', { class: 'actions' }, save, el('button', { type: 'button', class: 'small', text: 'Cancel', onclick: view }))));
      value.focus();
    };
    view();
    return tr;
  }
}
