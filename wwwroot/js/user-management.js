// /user-management: the users table (search, filters, paging), adding users (a generated temporary password
// is shown once), role and status changes, password reset, unlock and deactivation.
import { api, notify } from './api.js';
import { live, coalesce, whenIdle, asking } from './live.js';
import { el, startPage, formatTime, clearErrors, showFieldErrors, busy, confirmInline, confirmDialog, secretOnce, reportError } from './ui.js';

const PageSize = 25;
const roles = ['admin', 'user', 'viewer'];
const userStatuses = ['active', 'inactive', 'locked'];

const me = await startPage({ adminOnly: true });
if (me) setUp();

function setUp() {
  const form = document.getElementById('add-form');
  const once = document.getElementById('once');
  const tbody = document.getElementById('users');
  const none = document.getElementById('no-users');
  const info = document.getElementById('page-info');
  const prev = document.getElementById('prev');
  const next = document.getElementById('next');
  const search = document.getElementById('search');
  const roleFilter = document.getElementById('role-filter');
  const statusFilter = document.getElementById('status-filter');
  const field = name => form.elements.namedItem(name);
  let offset = 0, total = 0, debounce = 0;

  const reload = () => load().catch(reportError);
  search.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(() => { offset = 0; reload(); }, 250); });
  roleFilter.addEventListener('change', () => { offset = 0; reload(); });
  statusFilter.addEventListener('change', () => { offset = 0; reload(); });
  prev.addEventListener('click', () => { offset = Math.max(0, offset - PageSize); reload(); });
  next.addEventListener('click', () => { offset += PageSize; reload(); });

  form.addEventListener('submit', async event => {
    event.preventDefault();
    clearErrors(form);
    once.replaceChildren();
    const password = field('password').value;
    const body = { username: field('username').value.trim(), email: field('email').value.trim(), role: field('role').value };
    if (password) body.password = password;
    await busy(form.querySelector('[type=submit]'), async () => {
      try {
        const user = await api('/api/users', { method: 'POST', body });
        form.reset();
        const temporary = user.temporary_password;
        if (temporary) once.replaceChildren(secretOnce(`Temporary password for ${user.username} (they must change it at first sign-in):`, temporary));
        else notify(`User ${user.username} added.`);
        await load();
      } catch (error) {
        showFieldErrors(form, error.errors);
      }
    });
  });

  reload();
  // Lockouts and another admin's changes show up without a refresh.
  const reloadWhenIdle = whenIdle(reload);
  live(['users'], {
    'user.locked': d => { notify(`${d.username} is locked out until ${formatTime(d.until)}.`); reloadWhenIdle(); },
    'user.updated': coalesce(reloadWhenIdle),
  });

  // Platform identities linked to each user (promoted from an agent's Broca).
  let identities = new Map();

  async function load() {
    const query = new URLSearchParams({ limit: PageSize, offset });
    if (search.value.trim()) query.set('search', search.value.trim());
    if (roleFilter.value) query.set('role', roleFilter.value);
    if (statusFilter.value) query.set('status', statusFilter.value);
    const [page, links] = await Promise.all([api('/api/users?' + query), api('/api/broca/links', { quiet: true }).catch(() => [])]);
    identities = new Map();
    for (const link of links) identities.set(link.user_id, [...(identities.get(link.user_id) || []), link]);
    if (asking()) { reloadWhenIdle(); return; }
    total = page.total;
    if (offset > 0 && page.items.length === 0 && total > 0) { offset = Math.max(0, Math.floor((total - 1) / PageSize) * PageSize); return load(); }
    tbody.replaceChildren(...page.items.map(row));
    none.hidden = page.items.length > 0;
    info.textContent = total === 0 ? '' : `${offset + 1}–${offset + page.items.length} of ${total}`;
    prev.disabled = offset === 0;
    next.disabled = offset + page.items.length >= total;
  }

  function row(user) {
    const path = `/api/users/${user.id}`;
    const consequences = {
      role: value => value === 'admin' ? 'They can change everything, including other users.'
        : value === 'viewer' ? 'They can read but no longer chat or change anything.' : 'They can chat and read, but not administer.',
      status: value => value === 'active' ? 'They can sign in again.'
        : value === 'locked' ? 'They cannot sign in until unlocked, and their sessions end now.' : 'They cannot sign in, and their sessions end now.',
    };
    const change = async (body, select, previous) => {
      const [[name, value]] = Object.entries(body);
      if (!await confirmDialog(`Make ${user.username}'s ${name} ${value}?`, { detail: consequences[name](value), yes: `Make ${value}`, within: select.parentElement })) {
        select.value = previous;
        return;
      }
      try {
        await api(path, { method: 'PATCH', body });
        notify(`${user.username}: ${Object.entries(body).map(([k, v]) => `${k} is now ${v}`).join(', ')}.`);
        await load();
      } catch {
        select.value = previous; // refused (the last-admin guard, say): the message is in the notice bar
      }
    };
    // data-field, not name: [name=role] belongs to the add form alone.
    const roleSelect = el('select', { 'data-field': 'role', 'aria-label': `Role of ${user.username}` }, roles.map(r => el('option', { value: r, text: r })));
    roleSelect.value = user.role;
    roleSelect.addEventListener('change', () => change({ role: roleSelect.value }, roleSelect, user.role));
    const statusSelect = el('select', { 'data-field': 'status', 'aria-label': `Status of ${user.username}` }, userStatuses.map(s => el('option', { value: s, text: s })));
    statusSelect.value = user.status;
    statusSelect.addEventListener('change', () => change({ status: statusSelect.value }, statusSelect, user.status));

    const locked = user.locked_until && Date.parse(user.locked_until) > Date.now();
    const actions = el('div', { class: 'actions' });
    actions.append(el('button', { type: 'button', class: 'small', 'data-action': 'reset-password', text: 'Reset password', onclick: () =>
      confirmInline(actions, `Give ${user.username} a new temporary password?`, async () => {
        try {
          const result = await api(`${path}/password`, { method: 'POST', body: {} });
          const temporary = result && result.temporary_password;
          once.replaceChildren(temporary
            ? secretOnce(`New temporary password for ${user.username}:`, temporary)
            : el('p', { class: 'dim', text: `${user.username}'s password was reset.` }));
          once.scrollIntoView({ block: 'nearest' });
          await load();
        } catch { /* shown in the notice bar */ }
      }) }));
    if (locked || user.status === 'locked' || user.failed_login_attempts > 0) {
      actions.append(el('button', { type: 'button', class: 'small', 'data-action': 'unlock', text: 'Unlock', onclick: async () => {
        try { await api(`${path}/unlock`, { method: 'POST' }); notify(`${user.username} is unlocked.`); await load(); } catch { /* shown */ }
      } }));
    }
    const factors = user.factors ?? { totp: false, passkeys: 0, providers: [] };
    if (factors.totp || factors.passkeys > 0) {
      actions.append(el('button', { type: 'button', class: 'small', 'data-action': 'reset-factors', text: 'Reset second factors', onclick: () =>
        confirmInline(actions, `Remove ${user.username}'s authenticator app, recovery codes and passkeys?`, async () => {
          try { await api(`${path}/2fa`, { method: 'DELETE' }); notify(`${user.username}'s second factors are reset.`); await load(); } catch { /* shown */ }
        }) }));
    }
    if (user.status !== 'inactive') {
      actions.append(el('button', { type: 'button', class: 'small danger', 'data-action': 'deactivate', text: 'Deactivate', onclick: () =>
        confirmInline(actions, `Deactivate ${user.username} and end their sessions?`, async () => {
          try { await api(path, { method: 'DELETE' }); notify(`${user.username} is deactivated.`); await load(); } catch { /* shown */ }
        }) }));
    }

    actions.prepend(el('button', { type: 'button', class: 'small', 'data-action': 'edit-email', text: 'Edit email', onclick: () => editEmail() }));
    const emailBox = el('div', { class: 'dim small', 'data-testid': 'email', text: user.email });
    function editEmail() {
      const form = el('form', { class: 'inline-edit', noValidate: true },
        el('input', { type: 'email', 'data-field': 'email', name: 'email', value: user.email, maxLength: 254, 'aria-label': `Email of ${user.username}` }),
        el('button', { type: 'submit', class: 'small primary', 'data-action': 'save-email', text: 'Save' }),
        el('button', { type: 'button', class: 'small', text: 'Cancel', onclick: () => form.replaceWith(emailBox) }),
        el('div', { class: 'error', 'data-error-for': 'email' }));
      form.addEventListener('submit', async event => {
        event.preventDefault();
        clearErrors(form);
        const email = form.elements.namedItem('email').value.trim();
        await busy(form.querySelector('[type=submit]'), async () => {
          try {
            await api(path, { method: 'PATCH', body: { email } });
            notify(`${user.username}'s email is now ${email}.`);
            await load();
          } catch (error) {
            // A taken email is a 409 without field errors; it belongs next to the field all the same.
            showFieldErrors(form, error.status === 409 ? { email: [error.message] } : error.errors);
          }
        });
      });
      emailBox.replaceWith(form);
      form.elements.namedItem('email').focus();
    }

    const signIn = [factors.totp ? 'authenticator app' : null, factors.passkeys ? `${factors.passkeys} passkey${factors.passkeys === 1 ? '' : 's'}` : null,
      ...factors.providers.map(p => `linked to ${p}`)].filter(Boolean);
    const notes = [];
    if (user.must_change_password) notes.push('must change password');
    if (locked) notes.push(`locked until ${formatTime(user.locked_until)}`);
    return el('tr', { 'data-user-id': String(user.id) },
      el('td', {},
        el('div', { 'data-testid': 'username', text: user.username }),
        emailBox,
        notes.length ? el('div', { class: 'small status-Degraded', text: notes.join(' · ') }) : null,
        el('div', { class: 'dim small', 'data-testid': 'factors', text: signIn.length ? signIn.join(' · ') : 'password only' }),
        (identities.get(user.id) || []).length ? el('div', { class: 'dim small', 'data-testid': 'identities',
          text: identities.get(user.id).map(l => `${l.platform} ${l.username ? '@' + l.username : l.platform_user_id} (${l.agent_id})`).join(' · ') }) : null),
      el('td', {}, roleSelect),
      el('td', {}, statusSelect),
      el('td', { class: 'hide-narrow dim small', text: formatTime(user.last_login) }),
      el('td', {}, actions));
  }
}
