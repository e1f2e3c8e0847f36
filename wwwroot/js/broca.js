// /broca-settings?agent=ID: one agent's Broca (settings.json, .env, queue, platform users, logs) through
// /api/agents/{id}/broca and /api/broca. Every queue action says how many items it touches and asks first.
import { api } from './api.js';
import { el, startPage, isAdmin, reportError, confirmDialog, busy, clearErrors, showFieldErrors, secretOnce, formatTime } from './ui.js';

const MASK = '********';
const $ = id => document.getElementById(id);
let me, agent, base, settingsTag = null, envTag = null, cursor = null, stats = null;

async function main() {
  me = await startPage();
  if (!me) return;
  const instances = await api('/api/tools/broca/instances');
  const agents = [...new Set(instances.filter(i => i.agent_id && i.is_active).map(i => i.agent_id))];
  const select = $('agent-select');
  select.replaceChildren(...agents.map(a => el('option', { value: a, text: a })));
  const wanted = new URLSearchParams(location.search).get('agent');
  agent = agents.includes(wanted) ? wanted : agents[0];
  if (isAdmin(me)) await showConnect(agents, !agent);
  if (!agent) {
    $('home').textContent = 'No agent has a Broca connected yet: an admin connects one by naming its folder.';
    for (const section of document.querySelectorAll('main > section')) section.hidden = true;
    return;
  }
  select.value = agent;
  select.addEventListener('change', () => { location.search = '?agent=' + encodeURIComponent(select.value); });
  const home = instances.find(i => i.agent_id === agent && i.is_active)?.config?.home;
  $('home').textContent = home ? `Folder: ${home}` : '';
  base = `/api/agents/${encodeURIComponent(agent)}/broca`;
  if (!isAdmin(me)) for (const id of ['users-panel', 'logs-panel']) $(id).hidden = true;
  wire();
  await Promise.all([loadQueue(), loadSettings(), loadEnv(), isAdmin(me) ? loadUsers() : null, isAdmin(me) ? loadLogs() : null]
    .map(p => Promise.resolve(p).catch(reportError)));
}

function wire() {
  $('queue-status').addEventListener('change', () => loadQueue().catch(reportError));
  $('queue-more').addEventListener('click', () => loadRows(true).catch(reportError));
  $('settings-form').addEventListener('submit', event => { event.preventDefault(); saveSettings(event.submitter).catch(reportError); });
  $('env-form').addEventListener('submit', event => { event.preventDefault(); saveEnv(event.submitter).catch(reportError); });
  $('env-add').addEventListener('click', () => $('env-rows').append(envRow('', '')));
  $('log-refresh').addEventListener('click', () => loadLogs().catch(reportError));
  $('log-level').addEventListener('change', () => loadLogs().catch(reportError));
  if (!isAdmin(me)) for (const id of ['env-add']) $(id).hidden = true;
  for (const form of ['settings-form', 'env-form']) if (!isAdmin(me)) $(form).querySelectorAll('button[type=submit]').forEach(b => { b.hidden = true; });
}

// ---- connecting a folder: the agent's instance of the broca tool, with a broca health check ----

async function showConnect(connected, open) {
  const all = await api('/api/agents');
  const free = all.filter(a => !connected.includes(a.id));
  if (!free.length) return;
  $('c-agent').replaceChildren(...free.map(a => el('option', { value: a.id, text: a.display_name || a.name || a.id })));
  $('connect-panel').hidden = false;
  $('connect-panel').open = open;
  $('connect-form').addEventListener('submit', async event => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const home = $('c-home').value.trim();
    const id = $('c-agent').value;
    try {
      await busy(event.submitter, () => api('/api/tools/broca/instances', { method: 'POST', quiet: true, body: {
        agent_id: id, name: `Broca of ${id}`, config: { home },
        health_check: home.startsWith('/') ? { type: 'broca', target: home, interval_seconds: 60 } : undefined,
      } }));
      location.search = '?agent=' + encodeURIComponent(id);
    } catch (error) {
      if (error.errors && Object.keys(error.errors).length) showFieldErrors(form, error.errors);
      else reportError(error);
    }
  });
}

// ---- queue ----

async function loadQueue() {
  stats = await api(`${base}/queue/stats`);
  const c = stats.counts;
  $('queue-stats').replaceChildren(
    ...Object.entries(c).filter(([, n]) => n > 0).map(([s, n]) => el('span', { class: 'badge', 'data-testid': `count-${s}`, text: `${s}: ${n}` })),
    el('span', { class: 'dim small', text: stats.oldest_pending_seconds != null ? `oldest pending ${stats.oldest_pending_seconds} s` : 'nothing pending' }),
    stats.failed_last_hour ? el('span', { class: 'dim small', text: `${stats.failed_last_hour} failed in the last hour` }) : null);
  const actions = $('queue-actions');
  actions.replaceChildren();
  if (isAdmin(me)) {
    actions.append(
      el('button', { type: 'button', 'data-testid': 'retry-failed', text: `Retry failed (${c.failed})`, disabled: !c.failed,
        onclick: event => act(event.currentTarget, `Retry ${c.failed} failed items?`, 'They go back to pending and Broca sends them again.', `${base}/queue/retry-failed`) }),
      el('button', { type: 'button', class: 'danger', 'data-testid': 'flush', text: `Flush pending (${c.pending})`, disabled: !c.pending,
        onclick: event => act(event.currentTarget, `Flush ${c.pending} pending items?`, 'They become flushed and are never sent, as Broca\'s own flush does.', `${base}/queue/flush`) }));
  }
  await loadRows(false);
}

async function act(button, question, detail, url, method = 'POST') {
  if (!await confirmDialog(question, { detail, yes: 'Yes', danger: true })) return;
  await busy(button, async () => {
    const result = await api(url, { method });
    if (result && result.changed != null) $('queue-stats').prepend(el('span', { class: 'small', role: 'status', text: `${result.changed} changed.` }));
  });
  await loadQueue();
}

async function loadRows(more) {
  if (!more) cursor = null;
  const query = new URLSearchParams({ limit: '50' });
  if ($('queue-status').value) query.set('status', $('queue-status').value);
  if (cursor) query.set('cursor', cursor);
  const page = await api(`${base}/queue?${query}`);
  const rows = page.items.map(item => el('tr', { 'data-testid': 'queue-row' },
    el('td', { text: item.id }), el('td', { text: item.status ?? '' }), el('td', { text: item.attempts }),
    el('td', { text: item.timestamp ?? '' }), el('td', { text: item.display_name || item.username || '' }),
    el('td', { text: (item.message ?? '').slice(0, 200) }),
    el('td', {}, isAdmin(me) ? el('div', { class: 'actions' },
      item.status === 'failed' ? el('button', { type: 'button', class: 'small', text: 'Retry',
        onclick: event => act(event.currentTarget, `Retry item ${item.id}?`, '1 item goes back to pending.', `${base}/queue/${item.id}/retry`) }) : null,
      el('button', { type: 'button', class: 'small danger', text: 'Delete', 'aria-label': `Delete item ${item.id}`,
        onclick: event => act(event.currentTarget, `Delete item ${item.id}?`, '1 item is removed from Broca\'s queue.', `${base}/queue/${item.id}`, 'DELETE') })) : null)));
  if (more) $('queue-rows').append(...rows); else $('queue-rows').replaceChildren(...rows);
  cursor = page.next_cursor;
  $('queue-more').hidden = !cursor;
}

// ---- settings.json ----

async function loadSettings() {
  const response = await fetch(`${base}/settings`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!response.ok) { await api(`${base}/settings`); return; }
  settingsTag = response.headers.get('ETag');
  const s = await response.json();
  const form = $('settings-form');
  form.message_mode.value = s.message_mode ?? 'live';
  form.queue_refresh.value = s.queue_refresh ?? '';
  form.max_retries.value = s.max_retries ?? '';
  form.debug_mode.checked = !!s.debug_mode;
}

async function saveSettings(button) {
  const form = $('settings-form');
  clearErrors(form);
  const body = { message_mode: form.message_mode.value, debug_mode: form.debug_mode.checked };
  if (form.queue_refresh.value !== '') body.queue_refresh = Number(form.queue_refresh.value);
  if (form.max_retries.value !== '') body.max_retries = Number(form.max_retries.value);
  await busy(button, () => send(`${base}/settings`, body, settingsTag, form));
  await loadSettings();
  saved(form);
}

// Said once the form shows what was stored (after its reload), so nothing typed next is overwritten by the reload.
const saved = form => form.prepend(el('p', { class: 'small', role: 'status', 'data-testid': 'saved', text: 'Saved.' }));

async function send(url, body, tag, form) {
  try {
    await api(url, { method: url.endsWith('/env') ? 'PUT' : 'PATCH', body, headers: tag ? { 'If-Match': tag } : {} });
  } catch (error) {
    if (error.errors) showFieldErrors(form, error.errors);
    throw error;
  }
}

// ---- .env ----

function envRow(name, value) {
  const secret = /(_KEY|_TOKEN|_SECRET|_HASH|_PASSWORD)$/i.test(name);
  return el('div', { class: 'grid-2 env-row', 'data-testid': 'env-row' },
    el('input', { type: 'text', class: 'mono', value: name, 'aria-label': 'Name', name: 'env-name', readOnly: !isAdmin(me) }),
    el('div', { class: 'actions' },
      el('input', { type: secret ? 'password' : 'text', class: 'mono', value, 'aria-label': `Value of ${name || 'the new variable'}`, name: name || 'env-value', readOnly: !isAdmin(me) }),
      isAdmin(me) ? el('button', { type: 'button', class: 'small', text: 'Remove', onclick: event => event.currentTarget.closest('.env-row').remove() }) : null),
    el('div', { class: 'error', 'data-error-for': name }));
}

async function loadEnv(reveal = false) {
  const url = `${base}/env${reveal ? '?reveal=true' : ''}`;
  const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!response.ok) { await api(url); return; }
  envTag = response.headers.get('ETag');
  const vars = await response.json();
  $('env-rows').replaceChildren(...Object.entries(vars).map(([n, v]) => envRow(n, v)));
  $('env-actions').replaceChildren(isAdmin(me) && !reveal
    ? el('button', { type: 'button', class: 'small', text: 'Reveal secrets', onclick: () => loadEnv(true).catch(reportError) }) : '');
}

async function saveEnv(button) {
  const form = $('env-form');
  clearErrors(form);
  const body = {};
  for (const row of form.querySelectorAll('.env-row')) {
    const [name, value] = row.querySelectorAll('input');
    if (name.value.trim()) body[name.value.trim()] = value.value;
  }
  await busy(button, () => send(`${base}/env`, body, envTag, form));
  await loadEnv();
  saved(form);
}

// ---- users ----

async function loadUsers() {
  const page = await api(`/api/broca/users?agent=${encodeURIComponent(agent)}&limit=200`);
  $('user-rows').replaceChildren(...page.items.map(u => el('tr', { 'data-testid': 'user-row' },
    el('td', { text: u.platform ?? '' }),
    el('td', { text: [u.display_name, u.username ? '@' + u.username : null, u.platform_user_id].filter(Boolean).join(' · ') }),
    el('td', { text: u.message_count }), el('td', { text: u.last_active ?? '' }),
    el('td', {}, el('input', { type: 'checkbox', checked: u.is_active, 'aria-label': `Active: ${u.username ?? u.profile_id}`,
      onchange: event => setActive(u, event.currentTarget).catch(reportError) })),
    el('td', {}, u.sanctum_user_id
      ? el('a', { href: '/user-management', text: `Sanctum user ${u.sanctum_user_id}` })
      : el('button', { type: 'button', class: 'small', 'data-testid': 'promote', text: 'Promote',
        onclick: event => promote(u, event.currentTarget).catch(reportError) })))));
}

async function setActive(user, box) {
  await api(`/api/broca/users/${encodeURIComponent(agent)}/${user.profile_id}`, { method: 'PATCH', body: { is_active: box.checked } });
}

async function promote(user, button) {
  const name = user.display_name || user.username || user.platform_user_id;
  if (!await confirmDialog(`Make ${name} a Sanctum user?`, { detail: 'A viewer account is created and linked to this platform user; its temporary password is shown once.', yes: 'Promote' })) return;
  const result = await busy(button, () => api(`/api/broca/users/${encodeURIComponent(agent)}/${user.profile_id}/promote`, { method: 'POST', body: {} }));
  $('promoted').replaceChildren(secretOnce(`Temporary password of ${result.user.username}:`, result.temporary_password));
  await loadUsers();
}

// ---- logs ----

async function loadLogs() {
  const query = new URLSearchParams({ lines: '300' });
  if ($('log-level').value) query.set('level', $('log-level').value);
  const tail = await api(`${base}/logs?${query}`);
  $('log-lines').textContent = tail.lines.length ? tail.lines.join('\n') : 'No log lines.';
}

main().catch(reportError);
