// /agents/{id}: one agent's names, description, status, active flag and visibility (PATCH /api/agents/{id}),
// its model settings and core instructions (the agent config keys create-agent writes), deactivation, and its Letta
// side (agent-letta.js).
// Everyone who can see the agent reads the page; admins change it.
import { api, notify } from './api.js';
import { el, startPage, isAdmin, badge, clearErrors, showFieldErrors, confirmDialog, guardUnsaved, reportError } from './ui.js';
import { modelSettings as configKeys, allRoles, checkModelSettings } from './agent-settings.js';
import { historyButton } from './setting-history.js';
import { lettaPanel } from './agent-letta.js';
const agentFields = ['name', 'display_name', 'description', 'status'];

const me = await startPage();
if (me) await show().catch(reportError);

async function show() {
  const id = decodeURIComponent(location.pathname.split('/')[2] || '');
  const form = document.getElementById('agent-form');
  const progress = document.getElementById('progress');
  const picks = document.getElementById('user-picks');
  const everyone = document.getElementById('users_everyone');
  const field = name => form.elements.namedItem(name);
  const admin = isAdmin(me);
  const toggle = document.getElementById('toggle-active');

  let agent, config = {}, users = [];
  try {
    agent = await api(`/api/agents/${encodeURIComponent(id)}`, { quiet: true });
  } catch (error) {
    if (error.redirecting) return;
    document.getElementById('agent-title').textContent = 'No such agent';
    document.getElementById('agent-subtitle').textContent = error.status === 404
      ? `There is no agent “${id}”, or it is not visible to you.` : error.message;
    return;
  }
  const [entries, tools] = await Promise.all([
    api(`/api/agents/${encodeURIComponent(id)}/config`),
    api(`/api/tools?category=${encodeURIComponent(id)}`),
    admin ? api('/api/users?limit=200').then(page => { users = page.items; }) : null,
  ]);
  for (const entry of entries) config[entry.key] = entry.value == null ? '' : String(entry.value);

  let snapshot = '';
  const state = () => JSON.stringify([...new FormData(form).entries()]);
  guardUnsaved(() => admin && state() !== snapshot);

  fill();
  form.hidden = false;
  for (const input of form.elements) if (input.name && !admin) input.disabled = true;
  document.getElementById('read-only').hidden = admin;
  document.getElementById('form-actions').hidden = !admin;
  everyone.addEventListener('change', () => { picks.hidden = everyone.checked; });
  // Letta's side loads on its own: a slow or dead Letta never holds up our own record.
  lettaPanel(id, admin).catch(reportError);

  if (admin) {
    // Each model setting's history, with rollback; a rollback shows the value now stored in that field only.
    for (const setting of configKeys) {
      const url = `/api/agents/${encodeURIComponent(id)}/config/${setting.key}`;
      const reload = async () => {
        const now = await api(url, { quiet: true }).catch(error => { if (error.status === 404) return null; throw error; });
        config[setting.key] = now?.value == null ? '' : String(now.value);
        field(setting.key).value = config[setting.key];
        const before = JSON.parse(snapshot || '[]');
        snapshot = JSON.stringify(before.map(([name, v]) => [name, name === setting.key ? config[setting.key] : v]));
      };
      const slot = field(setting.key).closest('.field').querySelector(`[data-error-for="${setting.key}"]`);
      slot.before(historyButton(url, setting.key.replace('_', ' '), reload));
    }
    document.getElementById('danger-zone').hidden = false;
    toggle.addEventListener('click', async () => {
      const activating = !agent.is_active;
      if (!activating && !await confirmDeactivation()) return;
      try {
        if (activating) await api(`/api/agents/${encodeURIComponent(id)}`, { method: 'PATCH', body: { is_active: true } });
        else await api(`/api/agents/${encodeURIComponent(id)}`, { method: 'DELETE' });
        agent = await api(`/api/agents/${encodeURIComponent(id)}`);
        field('is_active').checked = agent.is_active;
        snapshot = state();
        header();
        notify(`${label()} is ${agent.is_active ? 'active again' : 'deactivated'}.`);
      } catch { /* shown in the notice bar */ }
    });
  }

  form.addEventListener('submit', async event => {
    event.preventDefault();
    if (!admin) return;
    clearErrors(form);
    const value = name => field(name).value.trim();
    const local = checkModelSettings(value);
    if (!value('name')) local.name = ['A name is required.'];
    if (Object.keys(local).length) { showFieldErrors(form, local); return; }

    const body = {};
    for (const name of agentFields) {
      const now = value(name), before = agent[name] ?? '';
      // PATCH keeps a field that is absent or null, so an emptied optional text is sent as "".
      if (now !== before) body[name] = now;
    }
    if (field('is_active').checked !== agent.is_active) body.is_active = field('is_active').checked;
    const roles = [...form.querySelectorAll('[name=visible_to_roles]:checked')].map(box => box.value);
    const newRoles = roles.length === allRoles.length ? null : roles;
    if (JSON.stringify(newRoles) !== JSON.stringify(agent.visible_to_roles ?? null)) body.visible_to_roles = newRoles;
    const newUsers = everyone.checked ? null : [...picks.querySelectorAll('input[name=visible_to_users]:checked')].map(box => Number(box.value));
    if (JSON.stringify(newUsers) !== JSON.stringify(agent.visible_to_users ?? null)) body.visible_to_users = newUsers;
    if (body.is_active === false && !await confirmDeactivation()) return;

    const changed = configKeys.filter(c => value(c.key) !== (config[c.key] ?? ''));
    const submit = form.querySelector('[type=submit]');
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    try {
      if (Object.keys(body).length) {
        progress.textContent = 'Saving the agent…';
        try {
          agent = await api(`/api/agents/${encodeURIComponent(id)}`, { method: 'PATCH', body });
        } catch (error) {
          showFieldErrors(form, error.errors);
          return;
        }
      }
      for (const [index, setting] of changed.entries()) {
        progress.textContent = `Saving ${setting.key.replace('_', ' ')} (${index + 1} of ${changed.length})…`;
        const url = `/api/agents/${encodeURIComponent(id)}/config/${setting.key}`;
        try {
          if (value(setting.key)) await api(url, { method: 'PUT', body: { value: value(setting.key), type: setting.type } });
          else await api(url, { method: 'DELETE' });
          config[setting.key] = value(setting.key);
        } catch (error) {
          const messages = Object.values(error.errors).flat();
          showFieldErrors(form, { [setting.key]: messages.length ? messages : [error.message] });
          return;
        }
      }
      snapshot = state();
      header();
      notify(Object.keys(body).length || changed.length ? `Saved ${label()}.` : 'Nothing changed.');
    } finally {
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
      progress.textContent = '';
    }
  });

  function label() {
    return agent.display_name || agent.name;
  }

  function header() {
    document.title = `${label()} · Sanctum`;
    document.getElementById('agent-title').textContent = label();
    document.getElementById('agent-subtitle').textContent = agent.description || '';
    document.getElementById('agent-state').replaceChildren(
      badge(agent.status),
      el('span', { class: agent.is_active ? 'badge status-Healthy' : 'badge status-Off', 'data-testid': 'active', text: agent.is_active ? 'Active' : 'Inactive' }),
      el('a', { class: 'button small', href: `/settings#${encodeURIComponent(id)}`, text: `Tools (${tools.length})` }),
      agent.is_active ? el('a', { class: 'button small', href: `/?agent=${encodeURIComponent(id)}`, text: 'Chat' }) : '');
    toggle.textContent = agent.is_active ? 'Deactivate agent' : 'Activate agent';
    toggle.className = agent.is_active ? 'danger' : 'primary';
    document.getElementById('danger-text').textContent = agent.is_active
      ? 'Deactivating is the delete of an agent: it leaves the chat switcher and the grid for everyone but admins, and nothing is erased, so it can be activated again.'
      : 'This agent is inactive: only admins see it and nobody can chat with it. Activate it to bring it back.';
  }

  function confirmDeactivation() {
    const count = tools.length === 1 ? '1 tool' : `${tools.length} tools`;
    return confirmDialog(`Deactivate ${label()}?`, {
      detail: `It leaves the chat switcher and nobody can start a chat with it; its conversations are kept. `
        + `Its ${count} stay in the database under its tab, which only admins see while it is inactive. `
        + `Its settings are kept. You can activate it again here.`,
      yes: 'Deactivate', danger: true,
    });
  }

  function fill() {
    header();
    for (const name of agentFields) field(name).value = agent[name] ?? '';
    field('is_active').checked = agent.is_active;
    for (const c of configKeys) field(c.key).value = config[c.key] ?? '';
    const roles = agent.visible_to_roles ?? allRoles;
    for (const box of form.querySelectorAll('[name=visible_to_roles]')) box.checked = roles.includes(box.value);
    const chosen = new Set(agent.visible_to_users ?? []);
    everyone.checked = agent.visible_to_users == null;
    picks.hidden = everyone.checked;
    const known = new Map(users.map(u => [u.id, u.username]));
    for (const userId of chosen) if (!known.has(userId)) known.set(userId, `user ${userId}`);
    picks.replaceChildren(...(admin
      ? [...known].map(([userId, username]) => el('label', {},
          el('input', { type: 'checkbox', name: 'visible_to_users', value: String(userId), checked: chosen.has(userId), 'data-user-id': String(userId) }), ' ', username))
      : [el('span', { class: 'dim small', text: chosen.size ? `${chosen.size} chosen users` : '' })]));
    snapshot = state();
  }
}
