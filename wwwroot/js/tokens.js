// /tokens: the signed-in user's personal access tokens: create one (shown once), list, revoke; admins may
// list and revoke everyone's.
import { api, notify } from './api.js';
import { el, startPage, formatTime, clearErrors, showFieldErrors, busy, confirmInline, secretOnce, isAdmin, reportError } from './ui.js';

const me = await startPage();
if (me) setUp();

function setUp() {
  const form = document.getElementById('token-form');
  const once = document.getElementById('once');
  const tbody = document.getElementById('tokens');
  const none = document.getElementById('no-tokens');
  const all = document.getElementById('all');
  const field = name => form.elements.namedItem(name);
  if (isAdmin(me)) document.getElementById('all-toggle').hidden = false;
  all.addEventListener('change', () => load().catch(reportError));

  form.addEventListener('submit', async event => {
    event.preventDefault();
    clearErrors(form);
    once.replaceChildren();
    const days = field('expires_in_days').value.trim();
    const body = { name: field('name').value.trim(), scope: field('scope').value, expires_in_days: /^\d+$/.test(days) ? Number(days) : null };
    await busy(form.querySelector('[type=submit]'), async () => {
      try {
        const created = await api('/api/auth/tokens', { method: 'POST', body });
        form.reset();
        once.replaceChildren(secretOnce(`Token "${created.name}" (${created.scope}, until ${formatTime(created.expires_at)}):`, created.token));
        await load();
      } catch (error) {
        showFieldErrors(form, error.errors);
      }
    });
  });

  load().catch(reportError);

  async function load() {
    const tokens = await api('/api/auth/tokens' + (all.checked ? '?all=true' : ''));
    none.hidden = tokens.length > 0;
    tbody.replaceChildren(...tokens.map(row));
  }

  function row(token) {
    const actions = el('td', {});
    actions.append(el('button', { type: 'button', class: 'small danger', 'data-testid': 'revoke', text: 'Revoke', onclick: () =>
      confirmInline(actions, `Revoke "${token.name}"?`, async () => {
        try {
          await api(`/api/auth/tokens/${token.id}`, { method: 'DELETE' });
          notify(`Token "${token.name}" revoked.`);
        } finally {
          await load();
        }
      }) }));
    return el('tr', { 'data-testid': 'token-row' },
      el('td', { text: token.name }),
      el('td', { text: token.username }),
      el('td', {}, el('span', { class: 'badge', text: token.scope })),
      el('td', { class: 'hide-narrow', text: formatTime(token.created_at) }),
      el('td', { text: formatTime(token.expires_at) }),
      el('td', { class: 'hide-narrow', text: token.last_used_at ? formatTime(token.last_used_at) : 'never' }),
      actions);
  }
}
