// /chat-settings: per-agent chat configuration as agent config keys. Everyone signed in reads; admins write.
import { api, notify } from './api.js';
import { el, startPage, isAdmin, clearErrors, showFieldErrors, reportError } from './ui.js';

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

  picker.addEventListener('change', () => load().catch(reportError));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    if (!admin) return;
    clearErrors(form);
    const temperature = field('temperature').value.trim();
    if (temperature && !(Number(temperature) >= 0 && Number(temperature) <= 2)) {
      showFieldErrors(form, { temperature: ['The temperature must be a number from 0 to 2.'] });
      return;
    }
    const agentId = picker.value;
    const changed = settings.filter(s => field(s.key).value.trim() !== (loaded[s.key] ?? ''));
    const submit = form.querySelector('[type=submit]');
    submit.disabled = true;
    try {
      for (const [index, s] of changed.entries()) {
        progress.textContent = `Saving ${index + 1} of ${changed.length}…`;
        const value = field(s.key).value.trim();
        const url = `/api/agents/${encodeURIComponent(agentId)}/config/${s.key}`;
        try {
          if (value) await api(url, { method: 'PUT', body: { value, type: s.type } });
          else await api(url, { method: 'DELETE' });
          loaded[s.key] = value;
        } catch (error) {
          const messages = Object.values(error.errors).flat();
          showFieldErrors(form, { [s.key]: messages.length ? messages : [error.message] });
          return;
        }
      }
      notify(changed.length ? `Saved the chat settings of ${picker.selectedOptions[0].textContent}.` : 'Nothing changed.');
    } finally {
      submit.disabled = false;
      progress.textContent = '';
    }
  });

  await load();

  async function load() {
    clearErrors(form);
    const rows = await api(`/api/agents/${encodeURIComponent(picker.value)}/config`);
    loaded = {};
    // Values come back typed (temperature as a number): the form compares and shows them as text.
    for (const row of Array.isArray(rows) ? rows : rows.items ?? []) loaded[row.key ?? row.config_key] = String(row.value ?? row.config_value ?? '');
    for (const s of settings) {
      const input = field(s.key), value = loaded[s.key] ?? '';
      // A value set elsewhere that the picker does not offer stays visible rather than reading as "not set".
      if (input.tagName === 'SELECT' && ![...input.options].some(o => o.value === value)) input.append(el('option', { value, text: value }));
      input.value = value;
    }
  }
}
