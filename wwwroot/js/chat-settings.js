// /chat-settings: per-agent chat configuration as agent config keys. Everyone signed in reads; admins write.
// Enter in a field saves that field; Save saves every changed field. Each field says next to itself whether it
// was saved. Switching agents or leaving with unsaved edits asks first.
import { api, notify } from './api.js';
import { el, startPage, isAdmin, clearErrors, showFieldErrors, guardUnsaved, reportError } from './ui.js';
import { checkModelSettings } from './agent-settings.js';

const settings = [
  { key: 'primary_model', type: 'string' },
  { key: 'temperature', type: 'number' },
  { key: 'voice', type: 'string' },
  { key: 'safety_level', type: 'string' },
  { key: 'persona', type: 'string' },
];

const me = await startPage();
if (me) await setUp().catch(reportError);

async function setUp() {
  const picker = document.getElementById('agent');
  const form = document.getElementById('chat-form');
  const progress = document.getElementById('progress');
  const field = name => form.elements.namedItem(name);
  const admin = isAdmin(me);
  let loaded = {};

  const agents = await api('/api/agents');
  if (agents.length === 0) {
    form.replaceChildren(el('p', { class: 'empty', text: 'No agents yet.' }));
    return;
  }
  picker.replaceChildren(...agents.map(a => el('option', { value: a.id, text: a.display_name || a.name })));
  const wanted = new URLSearchParams(location.search).get('agent');
  if (agents.some(a => a.id === wanted)) picker.value = wanted;
  for (const s of settings) field(s.key).disabled = !admin;
  document.getElementById('read-only').hidden = admin;
  document.getElementById('form-actions').hidden = !admin;
  document.getElementById('how-to-save').hidden = !admin;

  const changed = () => settings.filter(s => field(s.key).value.trim() !== (loaded[s.key] ?? ''));
  const guard = guardUnsaved(() => admin && changed().length > 0);
  let shownAgent = picker.value;
  let loads = 0;

  picker.addEventListener('change', async () => {
    const next = picker.value;
    picker.value = shownAgent; // the old agent's edits stay on screen until the user agrees to drop them
    if (!await guard.mayDiscard(`your unsaved edits to ${picker.selectedOptions[0].textContent}`)) return;
    picker.value = next;
    await load().catch(reportError);
  });

  // Enter in a one-line field saves that field alone (a text area keeps Enter for new lines).
  form.addEventListener('keydown', event => {
    const input = event.target;
    if (event.key !== 'Enter' || event.isComposing || input.tagName === 'TEXTAREA' || !settings.some(s => s.key === input.name)) return;
    event.preventDefault();
    if (admin) save(settings.filter(s => s.key === input.name && field(s.key).value.trim() !== (loaded[s.key] ?? '')));
  });
  for (const s of settings) field(s.key).addEventListener('input', () => mark(s.key, ''));

  form.addEventListener('submit', event => {
    event.preventDefault();
    if (admin) save(changed());
  });

  await load();

  async function save(list) {
    clearErrors(form);
    const local = checkModelSettings(name => list.some(s => s.key === name) ? field(name).value.trim() : '');
    if (Object.keys(local).length) {
      showFieldErrors(form, local);
      for (const key of Object.keys(local)) mark(key, 'Not saved', 'failed');
      return;
    }
    if (list.length === 0) {
      notify('Nothing changed.');
      return;
    }
    const agentId = picker.value;
    const submit = form.querySelector('[type=submit]');
    submit.disabled = true;
    try {
      for (const [index, s] of list.entries()) {
        progress.textContent = `Saving ${index + 1} of ${list.length}…`;
        const value = field(s.key).value.trim();
        const url = `/api/agents/${encodeURIComponent(agentId)}/config/${s.key}`;
        try {
          if (value) await api(url, { method: 'PUT', body: { value, type: s.type }, quiet: true });
          else await api(url, { method: 'DELETE', quiet: true });
          loaded[s.key] = value;
          mark(s.key, value ? 'Saved' : 'Cleared', 'saved');
        } catch (error) {
          if (error.redirecting) return;
          const messages = Object.values(error.errors).flat();
          showFieldErrors(form, { [s.key]: messages.length ? messages : [error.message] });
          mark(s.key, 'Not saved', 'failed');
          return;
        }
      }
      if (list.length > 1) notify(`Saved the chat settings of ${picker.selectedOptions[0].textContent}.`);
    } finally {
      submit.disabled = false;
      progress.textContent = '';
    }
  }

  function mark(key, text, kind = '') {
    const slot = form.querySelector(`[data-saved-for="${key}"]`);
    slot.textContent = text;
    slot.className = `saved-mark small ${kind}`;
  }

  async function load() {
    const mine = ++loads;
    clearErrors(form);
    shownAgent = picker.value;
    const rows = await api(`/api/agents/${encodeURIComponent(picker.value)}/config`);
    // Another agent was picked while this one's values were on their way: only the latest load may fill the form.
    if (mine !== loads) return;
    loaded = {};
    // Values come back typed (temperature as a number): the form compares and shows them as text.
    for (const row of Array.isArray(rows) ? rows : rows.items ?? []) loaded[row.key] = row.value == null ? '' : String(row.value);
    for (const s of settings) {
      const input = field(s.key), value = loaded[s.key] ?? '';
      // A value set elsewhere that the picker does not offer stays visible rather than reading as "not set".
      if (input.tagName === 'SELECT' && ![...input.options].some(o => o.value === value)) input.append(el('option', { value, text: value }));
      input.value = value;
      mark(s.key, '');
    }
    form.dataset.loadedFor = shownAgent;
  }
}
