// /create-agent: POST /api/agents, then the model settings and core instructions as the agent's config keys.
import { api } from './api.js';
import { el, startPage, clearErrors, showFieldErrors, slug, reportError } from './ui.js';
import { modelSettings as configKeys, allRoles, checkModelSettings } from './agent-settings.js';

const me = await startPage({ adminOnly: true });
if (me) setUp();

function setUp() {
  const form = document.getElementById('agent-form');
  const created = document.getElementById('created');
  const progress = document.getElementById('progress');
  const submit = form.querySelector('[type=submit]');
  let createdId = null; // the agent exists already: a retry only saves its configuration
  // namedItem, because form.id and form.name are the form's own attributes.
  const field = name => form.elements.namedItem(name);
  const idInput = field('id');

  idInput.addEventListener('input', () => { idInput.dataset.touched = idInput.value ? 'yes' : ''; });
  field('name').addEventListener('input', () => {
    if (!idInput.dataset.touched) idInput.value = slug(field('name').value);
  });

  form.addEventListener('submit', async event => {
    event.preventDefault();
    clearErrors(form);
    const value = name => field(name).value.trim();
    const local = checkModelSettings(value);
    if (Object.keys(local).length) { showFieldErrors(form, local); return; }

    const roles = [...form.querySelectorAll('[name=visible_to_roles]:checked')].map(box => box.value);
    const agent = {
      id: value('id'), name: value('name'),
      display_name: value('display_name') || null, description: value('description') || null,
      visible_to_roles: roles.length === allRoles.length ? null : roles,
    };
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    try {
      if (createdId !== agent.id) {
        progress.textContent = 'Creating the agent…';
        try {
          await api('/api/agents', { method: 'POST', body: agent });
        } catch (error) {
          // A taken id is a 409 without field errors; it belongs next to the id all the same.
          showFieldErrors(form, error.status === 409 ? { id: [error.message] } : error.errors);
          return;
        }
        createdId = agent.id;
      }
      const settings = configKeys.filter(c => value(c.key));
      for (const [index, setting] of settings.entries()) {
        progress.textContent = `Saving ${setting.key.replace('_', ' ')} (${index + 1} of ${settings.length})…`;
        try {
          await api(`/api/agents/${encodeURIComponent(agent.id)}/config/${setting.key}`,
            { method: 'PUT', body: { value: value(setting.key), type: setting.type } });
        } catch (error) {
          const messages = Object.values(error.errors).flat();
          showFieldErrors(form, { [setting.key]: messages.length ? messages : [error.message] });
          progress.textContent = 'The agent exists; fix the field and save again to finish its configuration.';
          return;
        }
      }
      progress.textContent = '';
      done(agent);
    } catch (error) {
      reportError(error);
    } finally {
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
      if (progress.textContent.endsWith('…')) progress.textContent = '';
    }
  });

  function done(agent) {
    createdId = null;
    form.reset();
    idInput.dataset.touched = '';
    created.replaceChildren(el('div', { class: 'panel', role: 'status', 'data-testid': 'created' },
      el('h2', { text: `${agent.display_name || agent.name} is ready` }),
      el('p', { class: 'dim', text: `Agent ${agent.id} was created with its configuration.` }),
      el('div', { class: 'actions' },
        el('a', { class: 'button primary', href: `/settings#${encodeURIComponent(agent.id)}`, text: 'Open its tab' }),
        el('a', { class: 'button', href: `/?agent=${encodeURIComponent(agent.id)}`, text: 'Chat with it' }))));
    created.hidden = false;
    created.scrollIntoView({ block: 'nearest' });
  }
}
